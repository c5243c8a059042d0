"""Describing results as recorded: every value[x] form a HER2 result arrives in, without interpretation."""

from typing import Any

import pytest

from cds_service.clinical.record import describe_value, effective_date, medication_concept


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (
            {
                "valueCodeableConcept": {
                    "coding": [{"system": "http://loinc.org", "code": "LA11843-2", "display": "3+"}]
                }
            },
            "3+",
        ),
        ({"valueCodeableConcept": {"coding": [{"system": "urn:local", "code": "POS"}]}}, "POS"),
        ({"valueCodeableConcept": {"text": "阳性"}}, "阳性"),
        ({"valueCodeableConcept": {}}, "coded value without display"),
        ({"valueQuantity": {"value": 2.4, "unit": "{ratio}"}}, "2.4"),
        ({"valueQuantity": {"value": 6}}, "6"),
        ({"valueRatio": {"numerator": {"value": 12}, "denominator": {"value": 4}}}, "12:4"),
        ({"valueString": "HER2 2+, ISH pending"}, "HER2 2+, ISH pending"),
        ({"valueInteger": 3}, "3"),
        (
            {"dataAbsentReason": {"coding": [{"code": "not-performed", "display": "Not Performed"}]}},
            "no value (Not Performed)",
        ),
        ({}, "no value recorded"),
    ],
)
def test_describe_value(value: dict[str, Any], shown: str) -> None:
    assert describe_value(value) == shown


@pytest.mark.parametrize(
    ("observation", "date"),
    [
        ({"effectiveDateTime": "2025-01-10T09:30:00+08:00"}, "2025-01-10"),
        ({"effectivePeriod": {"start": "2024-12-01"}}, "2024-12-01"),
        ({"issued": "2025-02-03T10:00:00Z"}, "2025-02-03"),
        ({}, None),
    ],
)
def test_effective_date(observation: dict[str, Any], date: str | None) -> None:
    assert effective_date(observation) == date


def test_medication_reference_into_draft_orders() -> None:
    medication = {"resourceType": "Medication", "id": "m1", "code": {"text": "pertuzumab"}}
    order = {"resourceType": "MedicationRequest", "id": "o1", "medicationReference": {"reference": "Medication/m1"}}
    draft = {"resourceType": "Bundle", "entry": [{"resource": order}, {"resource": medication}]}

    other = {**order, "medicationReference": {"reference": "Medication/other"}}
    fetched = {"Medication/other": {"resourceType": "Medication", "id": "other", "code": {"text": "tucatinib"}}}

    assert medication_concept(order, draft, {}) == {"text": "pertuzumab"}
    assert medication_concept(other, draft, {}) is None
    assert medication_concept(other, draft, fetched) == {"text": "tucatinib"}
    with_display = {**other, "medicationReference": {"reference": "Medication/other", "display": "Herceptin 150 mg"}}
    assert medication_concept(with_display, draft, {}) == {"text": "Herceptin 150 mg"}
    assert medication_concept({"resourceType": "MedicationRequest"}, draft, {}) is None
