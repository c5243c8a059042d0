"""Terminology look-ups: codes first, then names and texts; products and biosimilars; local ConceptMaps."""

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from cds_service.config import REPO_ROOT
from cds_service.datafiles import DataFileError
from cds_service.terminology import Staging, load_terminology

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
TERMS = load_terminology(REPO_ROOT / "mappings")
EXAMPLE_MAP = REPO_ROOT / "examples" / "conceptmap" / "hospital-local-codes.conceptmap.json"


def codeable(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": system, "code": code, **({"display": display} if display else {})}
    return {"coding": [coding]}


@pytest.mark.parametrize(
    ("concept", "drug", "product"),
    [
        (codeable(RXNORM, "224905"), "trastuzumab", None),
        (codeable("http://www.whocc.no/atc", "L01FD02"), "pertuzumab", None),
        ({"text": "Ado-Trastuzumab Emtansine 160 MG Injection"}, "trastuzumab-emtansine", None),
        ({"text": "注射用恩美曲妥珠单抗"}, "trastuzumab-emtansine", None),
        ({"text": "注射用德曲妥珠单抗"}, "trastuzumab-deruxtecan", None),  # not plain 曲妥珠单抗
        ({"text": "曲妥珠单抗注射液"}, "trastuzumab", None),
        ({"text": "trastuzumab-dkst"}, "trastuzumab", "ogivri"),
        ({"text": "Kanjinti 420 mg"}, "trastuzumab", "kanjinti"),
        ({"text": "注射用曲妥珠单抗（汉曲优）"}, "trastuzumab", "zercepac"),
        ({**codeable(RXNORM, "224905", "trastuzumab"), "text": "Ontruzant 150 mg"}, "trastuzumab", "ontruzant"),
        ({"text": "Herceptin Hylecta 600 mg/10,000 units"}, "trastuzumab-sc", "herceptin-hylecta"),
        ({"text": "Phesgo 1200 mg/600 mg"}, "pertuzumab-trastuzumab-sc", "phesgo"),
        ({"coding": [{"system": "urn:local", "code": "X1", "display": "吡咯替尼片"}]}, "pyrotinib", None),
        ({"text": "注射用维迪西妥单抗"}, "disitamab-vedotin", None),
        ({"text": "注射用伊尼妥单抗"}, "inetetamab", None),  # its own drug, not a trastuzumab biosimilar
        ({"text": "paclitaxel"}, "paclitaxel", None),
        ({"text": "注射用异环磷酰胺"}, "ifosfamide", None),  # not 环磷酰胺 (cyclophosphamide)
        ({"text": "neratinibx"}, None, None),
        (None, None, None),
    ],
)
def test_drug_and_product_recognition(concept: dict[str, Any] | None, drug: str | None, product: str | None) -> None:
    match = TERMS.match_drug(concept)
    assert (match.drug if match else None, match.product if match else None) == (drug, product)


def test_anti_her2_drugs_and_partners_are_told_apart() -> None:
    assert TERMS.is_anti_her2("trastuzumab") and TERMS.is_anti_her2("pyrotinib")
    assert not TERMS.is_anti_her2("paclitaxel") and not TERMS.is_anti_her2("fulvestrant")
    assert TERMS.drugs["pertuzumab-trastuzumab-sc"].components == ["pertuzumab", "trastuzumab"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (codeable(LOINC, "LA6111-4"), "ihc-0"),
        (codeable(LOINC, "LA11841-6"), "ihc-1"),
        (codeable(LOINC, "LA11842-4"), "ihc-2"),
        (codeable(LOINC, "LA11843-2"), "ihc-3"),
        (codeable(LOINC, "LA11885-3"), "equivocal"),
        (codeable(SNOMED, "10828004"), "positive"),
        (codeable(SNOMED, "260385009"), "negative"),
        (codeable(SNOMED, "280414007"), "equivocal"),
        ({"text": "3+"}, "ihc-3"),
        ({"text": "阳性"}, "positive"),
        ({"text": "Positive"}, "positive"),
        ({"text": "  POSITIVE "}, "positive"),
        ({"text": "２＋"}, "ihc-2"),  # full-width digits and plus sign
        ({"text": "HER2 (3+)"}, "ihc-3"),
        ({"text": "无扩增"}, "negative"),
        ({"text": "弱阳性"}, None),  # not plain positive: never guessed
        ({"text": "(+)"}, None),  # in Chinese reports (+) is IHC 1+, not positive: never guessed
        (codeable("urn:local", "X"), None),
    ],
)
def test_result_values(value: dict[str, Any], expected: str | None) -> None:
    assert TERMS.result_value(value) == expected


def test_staging_values_from_ajcc_snomed_and_cancerstaging_org() -> None:
    assert TERMS.staging_value(codeable(SNOMED, "1222769001")) == Staging("stage", "IIB", None)
    assert TERMS.staging_value(codeable(SNOMED, "1228938002")) == Staging("T", "T3", "c")
    assert TERMS.staging_value(codeable(SNOMED, "1228863001")) == Staging("T", "T0", "yp")
    assert TERMS.staging_value(codeable("http://cancerstaging.org", "4", "IV")) == Staging("stage", "IV", None)


def test_observation_and_condition_concepts() -> None:
    assert TERMS.observation_concept(codeable(LOINC, "18474-7")) == "her2-ihc"
    assert TERMS.observation_concept(codeable(LOINC, "32996-1")) == "her2-serum"
    assert TERMS.observation_code(codeable(LOINC, "21902-2")) == ("stage-group", "p")
    icd = "http://hl7.org/fhir/sid/icd-10-cm"
    assert TERMS.condition_concept(codeable(icd, "C50.912")) == "breast-cancer"
    assert TERMS.condition_concept(codeable(icd, "C56")) == "cancer-other-primary"  # ovary: another primary
    assert TERMS.condition_concept(codeable(icd, "D05.12")) == "breast-carcinoma-in-situ"  # DCIS is not C50
    assert TERMS.condition_concept(codeable(icd, "D24.1")) is None  # benign neoplasm of breast: silent
    assert TERMS.condition_concept(codeable(icd, "C79.31")) == "metastasis-brain"  # exact before prefix C79
    assert TERMS.condition_concept(codeable(icd, "C78.7")) == "metastasis-distant"
    assert TERMS.condition_concept(codeable(SNOMED, "94181007")) == "metastasis-regional"  # axillary: not M1


def _mappings_copy(tmp_path: Path) -> Path:
    target = tmp_path / "mappings"
    shutil.copytree(REPO_ROOT / "mappings", target)
    return target


def test_bad_mapping_file_stops_loading_naming_file_and_field(tmp_path: Path) -> None:
    mappings = _mappings_copy(tmp_path)
    drugs = mappings / "anti-her2-drugs.yaml"
    drugs.write_text(drugs.read_text(encoding="utf-8").replace("status: verified", "status: probably", 1), "utf-8")

    with pytest.raises(DataFileError) as error:
        load_terminology(mappings)

    assert error.value.path.name == "anti-her2-drugs.yaml"
    assert error.value.field == "drugs.trastuzumab.codes.0.status"


class TestLocalConceptMaps:
    def test_local_codes_map_to_observations_values_and_drugs(self) -> None:
        terms = load_terminology(REPO_ROOT / "mappings", (EXAMPLE_MAP,))

        assert terms.observation_concept(codeable("http://hospital.example.cn/lab-codes", "HER2-IHC")) == "her2-ihc"
        assert terms.result_value(codeable("http://hospital.example.cn/result-codes", "H3")) == "ihc-3"
        match = terms.match_drug(codeable("http://hospital.example.cn/drug-codes", "YP-AIRUINI"))
        assert match is not None and match.drug == "pyrotinib"
        # a local lab code is also asked for, or the FHIR query would never return its results
        assert ("http://hospital.example.cn/lab-codes", "HER2-IHC") in terms.prefetch_codes["biomarkers"]

    def test_a_conceptmap_in_the_mappings_folder_is_picked_up(self, tmp_path: Path) -> None:
        mappings = _mappings_copy(tmp_path)
        shutil.copy(EXAMPLE_MAP, mappings / "hospital.conceptmap.json")

        assert (
            load_terminology(mappings).local_code_count
            == load_terminology(REPO_ROOT / "mappings", (EXAMPLE_MAP,)).local_code_count
            > 0
        )

    def test_unknown_target_stops_start_up_naming_file_and_element(self, tmp_path: Path) -> None:
        concept_map = json.loads(EXAMPLE_MAP.read_text(encoding="utf-8"))
        concept_map["group"][0]["element"][1]["target"][0]["code"] = "99999-9"
        path = tmp_path / "bad.conceptmap.json"
        path.write_text(json.dumps(concept_map), encoding="utf-8")

        with pytest.raises(DataFileError) as error:
            load_terminology(REPO_ROOT / "mappings", (path,))

        assert error.value.path == path
        assert error.value.field == "group.0.element.1.target.0"
        assert "http://loinc.org|99999-9" in str(error.value)

    def test_only_equivalent_mappings_are_used(self, tmp_path: Path) -> None:
        concept_map = json.loads(EXAMPLE_MAP.read_text(encoding="utf-8"))
        element = concept_map["group"][0]["element"][0]
        element["target"][0]["equivalence"] = "wider"  # a broader local code must never count as HER2 IHC
        path = tmp_path / "wider.conceptmap.json"
        path.write_text(json.dumps(concept_map), encoding="utf-8")

        terms = load_terminology(REPO_ROOT / "mappings", (path,))

        assert terms.observation_concept(codeable(concept_map["group"][0]["source"], element["code"])) is None

    def test_a_local_code_mapped_to_two_meanings_is_refused(self, tmp_path: Path) -> None:
        concept_map = json.loads(EXAMPLE_MAP.read_text(encoding="utf-8"))
        group = concept_map["group"][0]
        group["element"].append(
            {"code": group["element"][0]["code"], "target": [{"code": "85337-4", "equivalence": "equivalent"}]}
        )
        path = tmp_path / "twice.conceptmap.json"
        path.write_text(json.dumps(concept_map), encoding="utf-8")

        with pytest.raises(DataFileError, match="already means her2-ihc"):
            load_terminology(REPO_ROOT / "mappings", (path,))

    def test_not_a_conceptmap_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "x.conceptmap.json"
        path.write_text(json.dumps({"resourceType": "ConceptMap", "status": "draft", "group": "x"}), encoding="utf-8")

        with pytest.raises(DataFileError) as error:
            load_terminology(REPO_ROOT / "mappings", (path,))
        assert error.value.field.startswith("group")
