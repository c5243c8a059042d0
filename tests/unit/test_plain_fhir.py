"""The fast Observation pre-check may only say "valid" where fhir.resources agrees (else cards could change)."""

import re
from typing import Any

import pytest
from fhir.resources.R4B.observation import Observation
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from benchmarks.bodies import patient_resources
from cds_service.clinical.plainfhir import plainly_valid_observation
from tests.unit.former.plainfhir import plainly_valid_observation as former_plainly_valid

PLAIN = {
    "resourceType": "Observation",
    "id": "obs-1",
    "status": "final",
    "category": [
        {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}
    ],
    "code": {"coding": [{"system": "http://loinc.org", "code": "10230-1", "display": "LVEF"}], "text": "LVEF"},
    "subject": {"reference": "Patient/p1"},
    "effectiveDateTime": "2024-03-01",
    "valueQuantity": {"value": 55.5, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"},
}


def fhir_valid(resource: dict[str, Any]) -> bool:
    try:
        Observation.model_validate(resource)
    except ValidationError:
        return False
    return True


# Values that are valid somewhere, invalid elsewhere, or odd: strings with spaces, control characters,
# impossible dates, wrong types, empty containers.
ODD_TEXT = st.sampled_from(
    ["", " ", "a b", " a", "a\n", "x\x00", "Patient/p1", "10230-1", "http://loinc.org", "final", "bogus", "%", "ü",
     "2024-02-30", "2024-02-29", "2023-02-29", "2024-13-01", "0999-01-01", "2024", "2024-03", "2024-03-01T10:00:00Z",
     "2024-03-01T10:00:00", "2024-03-01T24:00:00Z", "2024-03-01T10:00:60Z", "2024-03-01T10:00:00+14:30",
     "2024-03-01T10:00:00.1234567+01:00", "<", "<<"]
)  # fmt: skip
SCALAR = st.one_of(
    ODD_TEXT,
    st.text(max_size=6),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
VALUE: st.SearchStrategy[Any] = st.recursive(
    SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(
                ["system", "code", "display", "text", "coding", "value", "unit", "reference", "comparator", "extension"]
            ),
            inner,
            max_size=4,
        ),  # fmt: skip
    ),
    max_leaves=8,
)
FIELDS = sorted({*PLAIN, "valueCodeableConcept", "valueString", "specimen", "component", "issued", "extension"})


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    resource: dict[str, Any] = {k: v for k, v in PLAIN.items() if draw(st.booleans()) or k in ("status", "code")}
    for field in draw(st.lists(st.sampled_from(FIELDS), max_size=3)):
        resource[field] = draw(VALUE)
    return resource


@settings(max_examples=600, deadline=None)
@given(mutated())
def test_plainly_valid_implies_valid(resource: dict[str, Any]) -> None:
    if plainly_valid_observation(resource):
        assert fhir_valid(resource), resource


@pytest.mark.parametrize(
    "change",
    [
        {"effectiveDateTime": "2024-02-30"},
        {"effectiveDateTime": "2024-03-01T10:00:00"},  # a time needs a zone
        {"valueQuantity": {"value": True}},
        {"id": "has space"},
        {"subject": {"reference": 7}},
        {"valueString": "x", "valueQuantity": {"value": 1}},  # two value[x]
    ],
)
def test_invalid_shapes_are_left_to_fhir_resources(change: dict[str, Any]) -> None:
    resource = {**PLAIN, **change}
    assert not fhir_valid(resource)
    assert not plainly_valid_observation(resource)


def test_the_plain_shapes_of_a_chart_skip_the_full_validation() -> None:
    observations = [r for r in patient_resources(300) if r["resourceType"] == "Observation"]
    assert observations and all(plainly_valid_observation(r) for r in observations)
    assert all(fhir_valid(r) for r in observations)


FHIR_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")  # FHIR's decimal, as JSON writes it


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_float_is_a_decimal(number: float) -> None:
    """The pre-check takes any finite float as a decimal without matching its text: that must hold for all."""
    assert FHIR_DECIMAL.fullmatch(repr(number)), number
    resource = {**PLAIN, "valueQuantity": {"value": number}}
    assert plainly_valid_observation(resource) and fhir_valid(resource), number


@settings(max_examples=600, deadline=None)
@given(mutated())
def test_the_inline_checks_decide_as_the_former_table_of_checks(resource: dict[str, Any]) -> None:
    """The rewrite (each field checked in line) accepts exactly what the former table-driven check accepted."""
    assert plainly_valid_observation(resource) == former_plainly_valid(resource), resource


@pytest.mark.parametrize(
    "resource",
    [
        {**PLAIN, "id": "x" * 65},
        {**PLAIN, "id": 7},
        {**PLAIN, "resourceType": "Condition"},
        {**PLAIN, "status": "draft"},
        {**PLAIN, "status": ["final"]},
        {**PLAIN, "category": []},
        {**PLAIN, "category": [{}]},
        {**PLAIN, "code": {"coding": []}},
        {**PLAIN, "code": {"coding": [{"system": "http://loinc.org", "code": "a  b"}]}},
        {**PLAIN, "code": {"coding": [{"system": "http://loinc.org", "version": "2.7"}]}},
        {**PLAIN, "code": {"text": "LVEF", "extension": []}},
        {**PLAIN, "subject": {"reference": "Patient/p1", "type": "Patient"}},
        {**PLAIN, "specimen": {"reference": "Specimen/s1"}},
        {**PLAIN, "specimen": {}},
        {**PLAIN, "valueQuantity": {"value": 1, "comparator": "<="}},
        {**PLAIN, "valueQuantity": {"value": 1, "comparator": "=="}},
        {**PLAIN, "valueQuantity": {"unit": "%"}},
        {k: v for k, v in PLAIN.items() if k != "valueQuantity"} | {"valueString": "3+"},
        {k: v for k, v in PLAIN.items() if k != "valueQuantity"} | {"valueString": " 3+"},
        {k: v for k, v in PLAIN.items() if k != "valueQuantity"} | {"valueCodeableConcept": {"text": "Positive"}},
        {**PLAIN, "effectivePeriod": {"start": "2024-01-01"}},
        {k: v for k, v in PLAIN.items() if k != "status"},
        {k: v for k, v in PLAIN.items() if k != "code"},
    ],
)
def test_odd_fields_get_the_former_verdict_and_only_valid_ones_pass(resource: dict[str, Any]) -> None:
    verdict = plainly_valid_observation(resource)
    assert verdict == former_plainly_valid(resource)
    assert not verdict or fhir_valid(resource)


# A Coding, Quantity or Reference of any allowed and unknown fields, each absent, null, a plain or odd string, a
# number or an unhashable value: the counts of fields and the remembered verdicts of their strings must decide
# as the former field-by-field checks.
PART: st.SearchStrategy[Any] = st.sampled_from(
    [None, "http://loinc.org", "10230-1", "LVEF", "%", "<=", "a  b", " x", "", 5, 1.0, True, ["x"], {"a": 1}]
)
PART_KEYS = ["system", "code", "display", "unit", "comparator", "value", "reference", "version", "extension"]


@settings(max_examples=800, deadline=None)
@given(
    st.dictionaries(st.sampled_from(PART_KEYS), PART, max_size=5),
    st.sampled_from(["coding", "category", "valueQuantity", "subject", "specimen", "valueCodeableConcept"]),
    st.sampled_from([None, "LVEF", "", 3]),
    st.sampled_from([55.5, 7, 2**60, float("inf"), None, "55"]),
)
def test_field_counts_decide_as_the_former_checks(part: dict[str, Any], where: str, named: Any, number: Any) -> None:
    resource: dict[str, Any] = {**PLAIN}
    if where == "coding":
        resource["code"] = {"coding": [part], **({"text": named} if named is not None else {})}
    elif where == "category":
        resource["category"] = [{"coding": [{"system": "http://loinc.org", "code": "x"}, part]}]
    elif where == "valueQuantity":
        resource["valueQuantity"] = {**part, **({"value": number} if number is not None else {})}
    elif where == "valueCodeableConcept":
        del resource["valueQuantity"]
        resource["valueCodeableConcept"] = {"coding": [part]}
    else:
        resource[where] = part
    verdict = plainly_valid_observation(resource)
    assert verdict == former_plainly_valid(resource), resource
    assert not verdict or fhir_valid(resource), resource
