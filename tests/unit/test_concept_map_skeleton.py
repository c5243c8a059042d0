"""The ConceptMap skeleton: valid FHIR, harmless unfilled, effective once filled in, refused when wrong."""

import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.conceptmap import ConceptMap

from cds_service.clinical.unmapped import FoundCode, find_unmapped
from cds_service.config import REPO_ROOT
from cds_service.datafiles import DataFileError
from cds_service.hookrequest import bundle_resources
from cds_service.terminology import Terminology, load_terminology
from cds_service.terminology.skeleton import concept_map_skeleton

MAPPINGS = REPO_ROOT / "mappings"
LOCAL_EXAMPLE = REPO_ROOT / "examples" / "synthetic" / "her2-local-codes-chinese-hospital.json"
EXAMPLE_MAP = REPO_ROOT / "examples" / "conceptmap" / "hospital-local-codes.conceptmap.json"


@pytest.fixture(scope="module")
def terminology() -> Terminology:
    return load_terminology(MAPPINGS)


@pytest.fixture(scope="module")
def skeleton(terminology: Terminology) -> dict[str, Any]:
    resources = bundle_resources(json.loads(LOCAL_EXAMPLE.read_text(encoding="utf-8")))
    report = find_unmapped(resources, terminology, "her2-demo-local-codes")
    return concept_map_skeleton([*report.unrecognised, *report.by_text], terminology)


def example_answers() -> dict[tuple[str, str], str]:
    """What the integrator decides: here, the example hospital's own ConceptMap."""
    example = json.loads(EXAMPLE_MAP.read_text(encoding="utf-8"))
    return {(g["source"], e["code"]): e["target"][0]["code"] for g in example["group"] for e in g["element"]}


def fill(skeleton: dict[str, Any], answers: dict[tuple[str, str], str]) -> dict[str, Any]:
    filled = json.loads(json.dumps(skeleton))
    for group in filled["group"]:
        for element in group["element"]:
            code = answers.get((group["source"], element["code"]))
            if code:
                element["target"][0].update({"code": code, "equivalence": "equivalent"})
    return filled


def write(path: Path, resource: dict[str, Any]) -> Path:
    path.write_text(json.dumps(resource, ensure_ascii=False), encoding="utf-8")
    return path


def test_skeleton_is_a_valid_r4_concept_map_with_one_group_per_source(skeleton: dict[str, Any]) -> None:
    ConceptMap.model_validate(skeleton)
    groups = {(g["source"], g["target"]): [e["code"] for e in g["element"]] for g in skeleton["group"]}
    assert groups == {
        ("http://hospital.example.cn/lab-codes", "http://loinc.org"): ["ER-IHC", "HER2-FISH", "HER2-IHC", "PR-IHC"],
        ("http://hospital.example.cn/result-codes", "http://loinc.org"): ["H2"],
    }
    ihc = next(e for g in skeleton["group"] for e in g["element"] if e["code"] == "HER2-IHC")
    assert ihc["display"] == "HER2 免疫组化 (IHC)"
    assert ihc["target"][0]["equivalence"] == "unmatched" and "code" not in ihc["target"][0]
    assert "85319-2" in ihc["target"][0]["comment"]  # the service's HER2 IHC LOINC is suggested
    h2 = next(e for g in skeleton["group"] for e in g["element"] if e["code"] == "H2")
    assert "LA11842-4" in h2["target"][0]["comment"]


def test_unfilled_skeleton_loads_and_maps_nothing(skeleton: dict[str, Any], tmp_path: Path) -> None:
    loaded = load_terminology(MAPPINGS, (write(tmp_path / "skeleton.json", skeleton),))
    assert loaded.local_code_count == 0


def test_filled_skeleton_makes_the_codes_recognised(
    skeleton: dict[str, Any], terminology: Terminology, tmp_path: Path
) -> None:
    filled = write(tmp_path / "filled.json", fill(skeleton, example_answers()))

    loaded = load_terminology(MAPPINGS, (filled,))

    assert loaded.local_code_count == 5
    lab = "http://hospital.example.cn/lab-codes"
    assert loaded.observation_concept({"coding": [{"system": lab, "code": "HER2-IHC"}]}) == "her2-ihc"
    assert loaded.observation_concept({"coding": [{"system": lab, "code": "HER2-FISH"}]}) == "her2-ish"
    assert loaded.value_codes[("http://hospital.example.cn/result-codes", "H2")] == "ihc-2"
    resources = bundle_resources(json.loads(LOCAL_EXAMPLE.read_text(encoding="utf-8")))
    after = find_unmapped(resources, loaded, "her2-demo-local-codes")
    assert after.unrecognised == () and after.by_text == ()


def test_a_wrongly_filled_target_is_refused_naming_the_element(skeleton: dict[str, Any], tmp_path: Path) -> None:
    wrong = fill(skeleton, {("http://hospital.example.cn/lab-codes", "ER-IHC"): "0000-0"})

    with pytest.raises(
        DataFileError, match=r"group\.0\.element\.0\.target\.0.*unknown target http://loinc.org\|0000-0"
    ):
        load_terminology(MAPPINGS, (write(tmp_path / "wrong.json", wrong),))


def test_drug_and_condition_codes_map_to_service_concepts(terminology: Terminology, tmp_path: Path) -> None:
    drug = FoundCode("drug", "urn:local:drugs", "YP", ["吡咯替尼片"], read_as="pyrotinib (name '吡咯替尼')")
    condition = FoundCode("condition", "urn:local:dx", "BC", ["乳腺癌"])
    skeleton = concept_map_skeleton([drug, condition], terminology)

    targets = {g["source"]: g["target"] for g in skeleton["group"]}
    assert targets == {"urn:local:drugs": "urn:her2-cds:concept", "urn:local:dx": "urn:her2-cds:concept"}
    comments = [e["target"][0]["comment"] for g in skeleton["group"] for e in g["element"]]
    assert any("Perhaps pyrotinib" in c for c in comments) and any("Perhaps breast-cancer" in c for c in comments)

    filled = write(
        tmp_path / "f.json",
        fill(skeleton, {("urn:local:drugs", "YP"): "pyrotinib", ("urn:local:dx", "BC"): "breast-cancer"}),
    )
    loaded = load_terminology(MAPPINGS, (filled,))
    assert loaded.drug({"coding": [{"system": "urn:local:drugs", "code": "YP"}]}) == "pyrotinib"
    assert loaded.condition_concept({"coding": [{"system": "urn:local:dx", "code": "BC"}]}) == "breast-cancer"


def test_a_code_seen_with_and_without_its_text_is_one_element(terminology: Terminology) -> None:
    plain = FoundCode("drug", "urn:local:drugs", "YP", ["YP tablets"])
    named = FoundCode("drug", "urn:local:drugs", "YP", ["吡咯替尼片"], read_as="pyrotinib (name '吡咯替尼')")

    (group,) = concept_map_skeleton([plain, named], terminology)["group"]

    assert [e["code"] for e in group["element"]] == ["YP"]
