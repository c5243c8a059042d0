"""The unmapped-code finder: it recognises exactly what the engine recognises, on the patient's own data."""

import json
from pathlib import Path
from typing import Any

import pytest

from cds_service.clinical.unmapped import CodeReport, FoundCode, find_unmapped
from cds_service.config import REPO_ROOT
from cds_service.hookrequest import bundle_resources
from cds_service.terminology import Terminology, load_terminology
from tests.utils import factories as f

MAPPINGS = REPO_ROOT / "mappings"
LOCAL_EXAMPLE = REPO_ROOT / "examples" / "synthetic" / "her2-local-codes-chinese-hospital.json"
EXAMPLE_MAP = REPO_ROOT / "examples" / "conceptmap" / "hospital-local-codes.conceptmap.json"
LAB = "http://hospital.example.cn/lab-codes"
LOCAL_DRUGS = "http://hospital.example.cn/drug-codes"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


@pytest.fixture(scope="module")
def terminology() -> Terminology:
    return load_terminology(MAPPINGS)


@pytest.fixture(scope="module")
def with_example_map() -> Terminology:
    return load_terminology(MAPPINGS, (EXAMPLE_MAP,))


def _load(path: Path) -> list[dict[str, Any]]:
    return bundle_resources(json.loads(path.read_text(encoding="utf-8")))


def _codes(items: tuple[FoundCode, ...]) -> set[tuple[str, str, str]]:
    return {(i.kind, i.system, i.code) for i in items}


def _find(resources: list[dict[str, Any]], terminology: Terminology, patient: str | None = "p1") -> CodeReport:
    return find_unmapped([f.patient(), *resources], terminology, patient)


def test_local_codes_are_listed_with_counts_displays_and_resources(terminology: Terminology) -> None:
    report = find_unmapped(_load(LOCAL_EXAMPLE), terminology, "her2-demo-local-codes")

    assert _codes(report.unrecognised) == {
        ("observation", LAB, "HER2-IHC"),
        ("observation", LAB, "HER2-FISH"),
        ("observation", LAB, "ER-IHC"),
        ("observation", LAB, "PR-IHC"),
    }
    ihc = next(i for i in report.unrecognised if i.code == "HER2-IHC")
    assert (ihc.count, ihc.displays, ihc.resources) == (
        1,
        ["HER2 免疫组化 (IHC)"],
        ["Observation/her2-demo-local-codes-ihc"],
    )
    assert all(i.relevant for i in report.unrecognised)
    # The local result code is read from its text "2+" today: worth mapping, reported apart.
    (h2,) = report.by_text
    assert (h2.kind, h2.code, h2.read_as) == ("value", "H2", "value ihc-2 (from text)")
    assert report.resources_read == 9


def test_with_the_example_concept_map_nothing_relevant_is_unmapped(with_example_map: Terminology) -> None:
    report = find_unmapped(_load(LOCAL_EXAMPLE), with_example_map, "her2-demo-local-codes")

    assert not [i for i in (*report.unrecognised, *report.by_text) if i.relevant]
    assert report.unrecognised == () and report.by_text == ()


def test_a_code_known_in_another_coding_of_the_concept_is_recognised(terminology: Terminology) -> None:
    both = f.observation("o1", "85319-2", value=f.coded("http://loinc.org", "LA11842-4", "2+"))
    both["code"]["coding"].append({"system": LAB, "code": "HER2-IHC"})

    assert _find([both], terminology).unrecognised == ()


def test_irrelevant_codes_are_listed_after_relevant_ones(terminology: Terminology) -> None:
    blood_pressure = f.observation("bp", "85354-9")
    blood_pressure["code"]["coding"][0]["display"] = "Blood pressure panel"
    her2 = f.observation("h", "X1", system=LAB)
    her2["code"]["text"] = "CerbB-2 免疫组化"
    er = f.observation("e", "X2", system=LAB)
    er["code"]["coding"][0]["display"] = "雌激素受体"

    report = _find([blood_pressure, her2, er, f.observation("bp2", "85354-9")], terminology)

    assert [(i.code, i.relevant) for i in report.unrecognised] == [("X1", True), ("X2", True), ("85354-9", False)]
    assert report.unrecognised[2].count == 2
    assert report.unrecognised[2].resources == ["Observation/bp", "Observation/bp2"]


def test_values_are_checked_where_the_engine_reads_them(terminology: Terminology) -> None:
    ihc = f.observation("ihc", "85319-2", value=f.coded(LAB, "Z9", "weird"))  # a recognised HER2 IHC result
    lvef = f.observation("ef", "10230-1", value={"valueQuantity": {"value": 55, "unit": "%"}})  # no code to map
    smoking = f.observation("s", "72166-2", value=f.coded("http://snomed.info/sct", "266919005", "Never smoker"))

    report = _find([ihc, lvef, smoking], terminology)

    value = next(i for i in report.unrecognised if i.kind == "value")
    assert (value.code, value.relevant, value.resources) == ("Z9", True, ["Observation/ihc"])
    # The value of an Observation the engine ignores, and that does not look relevant, is not worth mapping.
    assert ("value", "http://snomed.info/sct", "266919005") not in _codes(report.unrecognised)


def test_component_codes_and_values_are_read_like_the_engine(terminology: Terminology) -> None:
    panel = f.observation("panel", "PANEL", system=LAB)
    panel["component"] = [
        {"code": {"coding": [{"system": "http://loinc.org", "code": "85319-2"}]}, **f.coded(LAB, "P3", "3+")},
        {"code": {"coding": [{"system": LAB, "code": "ER-PCT", "display": "ER %"}]}, "valueQuantity": {"value": 80}},
    ]

    report = _find([panel], terminology)

    assert ("observation", LAB, "ER-PCT") in _codes(report.unrecognised)
    assert ("value", LAB, "P3") in _codes(report.by_text)  # "3+" is read from the display


def test_staging_values_recognised_by_text_only(terminology: Terminology) -> None:
    stage = f.observation("st", "21908-9", value=f.coded(LAB, "S3A", "IIIA期"))
    unknown = f.observation("st2", "21908-9", value=f.coded(LAB, "S?", "未明"))

    report = _find([stage, unknown], terminology)

    (by_text,) = report.by_text
    assert (by_text.kind, by_text.code, by_text.read_as) == ("staging", "S3A", "stage IIIA (from text)")
    assert _codes(report.unrecognised) == {("staging", LAB, "S?")}


def test_condition_codes_and_stage_summaries(terminology: Terminology) -> None:
    local = {
        "resourceType": "Condition",
        "id": "c2",
        "code": {"coding": [{"system": LAB, "code": "RUXIAN", "display": "乳腺癌"}]},
        "stage": [{"summary": {"coding": [{"system": LAB, "code": "STG-X", "display": "?"}]}}],
        "subject": {"reference": "Patient/p1"},
    }
    known = f.breast_cancer()
    known["stage"] = [{"summary": {"coding": [{"system": LAB, "code": "STG-2B", "display": "Stage IIB"}]}}]

    report = _find([local, known], terminology)

    assert _codes(report.unrecognised) == {("condition", LAB, "RUXIAN"), ("staging", LAB, "STG-X")}
    assert _codes(report.by_text) == {("staging", LAB, "STG-2B")}


def test_drugs_by_code_by_name_and_unknown(terminology: Terminology) -> None:
    by_code = f.medication_request("m1", code="224905", text="trastuzumab")
    by_name = f.medication_request("m2", code=None, text="注射用曲妥珠单抗（汉曲优）")
    by_name["medicationCodeableConcept"]["coding"] = [{"system": LOCAL_DRUGS, "code": "QT-HANQUYOU"}]
    unknown = f.medication_request("m3", code=None, text="Metformin 500 mg")
    unknown["medicationCodeableConcept"]["coding"] = [{"system": LOCAL_DRUGS, "code": "MET500"}]
    text_only = f.medication_request("m4", code=None, text="something")  # no code: nothing to map

    report = _find([by_code, by_name, unknown, text_only], terminology)

    (hanquyou,) = report.by_text
    assert (hanquyou.code, hanquyou.relevant) == ("QT-HANQUYOU", True)
    assert hanquyou.read_as is not None and hanquyou.read_as.startswith("zercepac")
    assert _codes(report.unrecognised) == {("drug", LOCAL_DRUGS, "MET500")}


def test_referenced_medications_are_followed(terminology: Terminology) -> None:
    medication = {
        "resourceType": "Medication",
        "id": "med1",
        "code": {"coding": [{"system": LOCAL_DRUGS, "code": "X"}]},
    }
    statement = {
        "resourceType": "MedicationStatement",
        "id": "ms1",
        "status": "completed",
        "medicationReference": {"reference": "Medication/med1"},
        "subject": {"reference": "Patient/p1"},
    }
    administered = {**statement, "resourceType": "MedicationAdministration", "id": "ma1"}
    administered["contained"] = [{**medication, "id": "c1"}]
    administered["medicationReference"] = {"reference": "#c1"}

    (found,) = _find([medication, statement, administered], terminology).unrecognised

    assert (found.code, found.count) == ("X", 2)
    assert found.resources == ["MedicationStatement/ms1 (Medication/med1)", "MedicationAdministration/ma1 (#c1)"]


def test_only_the_patients_own_usable_resources_count(terminology: Terminology) -> None:
    other = f.observation("o-other", "OTHER", system=LAB, patient_id="p2")
    unconfirmed = f.observation("o-none", "NONE", system=LAB)
    del unconfirmed["subject"]
    retracted = f.observation("o-err", "ERR", system=LAB)
    retracted["status"] = "entered-in-error"
    own = f.observation("o-own", "OWN", system=LAB)

    report = _find([other, unconfirmed, retracted, own, own], terminology)

    assert _codes(report.unrecognised) == {("observation", LAB, "OWN")}
    assert (report.left_out, report.not_usable, report.resources_read) == (2, 1, 2)
    assert report.unrecognised[0].count == 1  # the same resource twice counts once


@pytest.mark.parametrize(
    "path",
    [
        "mcode-ig-stu4/Bundle-mcode-patient-bundle-jenny-m.json",
        "mcode-ctm-breastcancertrials/patient_data.json",
    ],
)
def test_mcode_examples_give_sensible_output(terminology: Terminology, path: str) -> None:
    resources = _load(REPO_ROOT / "examples" / "fhir" / path)

    report = find_unmapped(resources, terminology, None)

    found = (*report.unrecognised, *report.by_text)
    assert found, "mCODE records carry codes outside this service's scope"
    # Relevant codes come first, and nothing the engine recognises (its HER2, ER, PR, staging codes) is listed.
    flags = [i.relevant for i in report.unrecognised]
    assert flags == sorted(flags, reverse=True)
    for item in found:
        assert terminology.observation_codes.get((item.system, item.code)) is None
        assert terminology.drug_codes.get((item.system, item.code)) is None
        assert all("Patient/" not in r for r in item.resources)
