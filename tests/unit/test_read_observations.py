"""read_observations' fast code look-up reads what the general readers read: the first mapped coding (odd shapes
included), unmapped codes whose first display or text names HER2 reported, retracted records skipped."""

from typing import Any

import pytest

from cds_service.clinical.readings import read_observations
from cds_service.config import REPO_ROOT
from cds_service.terminology import Terminology, load_terminology

LOINC = "http://loinc.org"
IHC = {"system": LOINC, "code": "85319-2"}
LVEF = {"system": LOINC, "code": "10230-1"}


@pytest.fixture(scope="module")
def terminology() -> Terminology:
    return load_terminology(REPO_ROOT / "mappings")


def observation(code: Any, **more: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": "o1", "status": "final", "code": code, **more}


def concepts(resources: list[dict[str, Any]], terminology: Terminology) -> list[str]:
    readings, unreadable = read_observations(resources, terminology)
    return [r.concept for r in readings] + [c for c, _ in unreadable]


@pytest.mark.parametrize(
    "code",
    [
        {"coding": [{"system": "urn:x", "code": "9"}, IHC]},  # the first mapped coding counts, not the first
        {"coding": ["junk", 7, IHC]},  # non-objects among the codings are passed over
        {"coding": [{"system": 3, "code": "9"}, IHC], "text": "anything"},
    ],
)
def test_a_mapped_coding_anywhere_in_the_list_is_read(code: Any, terminology: Terminology) -> None:
    assert concepts([observation(code, valueString="3+")], terminology) == ["her2-ihc"]
    assert terminology.observation_code(code) is not None


@pytest.mark.parametrize("code", ["85319-2", {"coding": IHC}, {"coding": "x"}, None, 5, [IHC]])
def test_odd_codes_are_no_reading_and_do_not_raise(code: Any, terminology: Terminology) -> None:
    assert concepts([observation(code, valueString="3+")], terminology) == []


def test_a_component_alone_makes_a_reading(terminology: Terminology) -> None:
    lvef = {"code": {"coding": [LVEF]}, "valueQuantity": {"value": 55, "unit": "%"}}
    resource = observation({"coding": [{"system": "urn:x", "code": "panel"}]}, component=[lvef])
    readings, _ = read_observations([resource], terminology)
    assert [(r.concept, r.number) for r in readings] == [("lvef", 55.0)]
    # A malformed component beside it: the record is not valid FHIR, and said so under the mapped concept.
    readings, unreadable = read_observations([{**resource, "component": ["junk", lvef]}], terminology)
    assert readings == [] and [c for c, _ in unreadable] == ["lvef"]


@pytest.mark.parametrize(
    "code",
    [
        {"coding": [{"system": "urn:lab", "code": "H2", "display": "HER2 IHC"}]},
        {"coding": [{"system": "urn:lab", "code": "H2"}], "text": "c-erbB-2 FISH"},  # the text names it
        {"coding": [{"system": "urn:lab", "code": "ERBB2"}]},  # no display: the code is the name shown
        {"coding": [{"system": "urn:lab", "code": "", "display": ""}, {"code": "x", "display": "HER-2 score"}]},
        {"text": "HER2 status"},
    ],
)
def test_an_unmapped_code_named_her2_is_reported(code: Any, terminology: Terminology) -> None:
    _, unreadable = read_observations([observation(code, valueString="3+")], terminology)
    assert [c for c, _ in unreadable] == ["her2-unknown-code"]
    assert unreadable[0][1].value.startswith("code not in mappings (")


@pytest.mark.parametrize(
    "code",
    [
        # The first coding with a name is the one shown: a HER2 display further down is not.
        {"coding": [{"system": "urn:lab", "code": "123"}, {"system": "urn:lab", "code": "9", "display": "HER2"}]},
        {"coding": [{"system": "urn:lab", "code": "H", "display": "Hemoglobin"}], "text": "Hb"},
        {"coding": [{"system": "urn:lab", "code": "THER2X"}]},  # a word containing the letters is not HER2
    ],
)
def test_an_unmapped_code_not_named_her2_is_ignored(code: Any, terminology: Terminology) -> None:
    assert read_observations([observation(code, valueString="3+")], terminology) == ([], [])


@pytest.mark.parametrize("retracted", [{"status": "entered-in-error"}, {"status": "cancelled"}])
def test_retracted_records_are_skipped_whether_mapped_or_not(retracted: Any, terminology: Terminology) -> None:
    mapped = {**observation({"coding": [IHC]}, valueString="3+"), **retracted}
    named = {**observation({"coding": [{"system": "urn:lab", "code": "HER2"}]}, valueString="3+"), **retracted}
    assert read_observations([mapped, named], terminology) == ([], [])
