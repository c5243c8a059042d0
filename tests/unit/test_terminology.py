from pathlib import Path

import pytest

from cds_service.config import REPO_ROOT
from cds_service.datafiles import DataFileError
from cds_service.terminology import load_terminology

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
TERMS = load_terminology(REPO_ROOT / "mappings")


@pytest.mark.parametrize(
    ("concept", "drug"),
    [
        ({"coding": [{"system": RXNORM, "code": "224905"}]}, "trastuzumab"),
        ({"coding": [{"system": "http://www.whocc.no/atc", "code": "L01FD02"}]}, "pertuzumab"),
        ({"text": "Ado-Trastuzumab Emtansine 160 MG Injection"}, "trastuzumab-emtansine"),
        ({"text": "注射用恩美曲妥珠单抗"}, "trastuzumab-emtansine"),
        ({"text": "注射用德曲妥珠单抗"}, "trastuzumab-deruxtecan"),
        ({"text": "曲妥珠单抗注射液"}, "trastuzumab"),
        ({"text": "trastuzumab-dkst"}, "trastuzumab"),
        ({"coding": [{"system": "urn:local", "code": "X1", "display": "吡咯替尼片"}]}, "pyrotinib"),
        ({"text": "paclitaxel"}, None),
        ({"text": "neratinibx"}, None),
        (None, None),
    ],
)
def test_drug_recognition_by_code_then_name(concept: dict[str, object] | None, drug: str | None) -> None:
    assert TERMS.drug(concept) == drug


def test_observation_and_condition_concepts() -> None:
    assert TERMS.observation_concept({"coding": [{"system": "http://loinc.org", "code": "18474-7"}]}) == "her2-ihc"
    assert TERMS.observation_concept({"coding": [{"system": "http://loinc.org", "code": "32996-1"}]}) is None
    assert (
        TERMS.condition_concept({"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C50.912"}]})
        == "breast-cancer"
    )
    assert TERMS.condition_concept({"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C56"}]}) is None


def test_bad_mapping_file_stops_loading_naming_file_and_field(tmp_path: Path) -> None:
    for name in ("observation-codes.yaml", "anti-her2-drugs.yaml", "condition-codes.yaml"):
        (tmp_path / name).write_text((REPO_ROOT / "mappings" / name).read_text(encoding="utf-8"), encoding="utf-8")
    broken = (
        (tmp_path / "anti-her2-drugs.yaml")
        .read_text(encoding="utf-8")
        .replace("status: verified", "status: probably", 1)
    )
    (tmp_path / "anti-her2-drugs.yaml").write_text(broken, encoding="utf-8")

    with pytest.raises(DataFileError) as error:
        load_terminology(tmp_path)

    assert error.value.path.name == "anti-her2-drugs.yaml"
    assert error.value.field == "drugs.trastuzumab.codes.0.status"
