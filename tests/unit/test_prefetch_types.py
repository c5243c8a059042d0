"""What a prefetch key holds besides the type its template asks for: named once per type, among the resources
kept (the per-key cap cuts the rest), search outcomes and the allowed companions not at all."""

import asyncio
from typing import Any

import pytest

from cds_service.fhir import FhirClient, PatientData, gather_patient_data

TEMPLATES = {
    "patient": "Patient/{{context.patientId}}",
    "biomarkers": "Observation?patient={{context.patientId}}",
}


def _entry(kind: Any, mode: str | None = "match") -> dict[str, Any]:
    entry: dict[str, Any] = {"resource": {"resourceType": kind, "id": f"r-{kind}"}}
    if mode is not None:
        entry["search"] = {"mode": mode}
    return entry


def _gather(biomarkers: list[dict[str, Any]], max_resources: int | None = None) -> PatientData:
    def no_server() -> FhirClient:
        raise AssertionError("everything is in prefetch")

    prefetch = {
        "patient": {"resourceType": "Patient", "id": "p1"},
        "biomarkers": {"resourceType": "Bundle", "type": "searchset", "entry": biomarkers},
    }
    return asyncio.run(
        gather_patient_data(TEMPLATES, {"patientId": "p1"}, prefetch, no_server, 5.0, max_resources=max_resources)
    )


def test_other_types_are_named_once_each_in_order_of_name() -> None:
    entries = [_entry("Observation"), _entry("Procedure"), _entry("Condition"), _entry("Procedure"), _entry(7)]

    data = _gather(entries)

    assert data.misplaced == {"biomarkers": ("type:7", "type:Condition", "type:Procedure")}
    assert [r["resourceType"] for r in data.resources["biomarkers"]] == [
        "Observation",
        "Procedure",
        "Condition",
        "Procedure",
        7,
    ]


def test_search_outcomes_and_companions_are_not_misplaced() -> None:
    entries = [
        _entry("Observation", mode=None),
        _entry("OperationOutcome", mode="outcome"),
        _entry("Medication", mode="include"),
        _entry("Practitioner", mode="include"),
        _entry("Observation"),
    ]

    data = _gather(entries)

    assert data.misplaced == {}
    assert [r["resourceType"] for r in data.resources["biomarkers"]] == [
        "Observation",
        "Medication",
        "Practitioner",
        "Observation",
    ]


@pytest.mark.parametrize(
    ("cap", "named"),
    [(2, ()), (3, ("type:Condition",)), (4, ("type:Condition",)), (5, ("type:Condition", "type:Procedure"))],
)
def test_only_the_resources_kept_under_the_cap_are_checked(cap: int, named: tuple[str, ...]) -> None:
    entries = [
        _entry("Observation"),
        _entry("Observation"),
        _entry("Condition"),
        _entry("Observation"),
        _entry("Procedure"),
    ]

    data = _gather(entries, max_resources=cap)

    assert data.misplaced.get("biomarkers", ()) == named
    assert len(data.resources["biomarkers"]) == cap
    assert ("biomarkers" in data.truncated) is (cap < len(entries))


def test_odd_entries_are_skipped_and_a_single_resource_is_checked_too() -> None:
    entries: list[Any] = [None, [], {"resource": "text"}, {"resource": {"resourceType": "Condition"}, "search": []}]
    templates = {**TEMPLATES, "patient": "Patient/{{context.patientId}}"}
    prefetch = {
        "patient": {"resourceType": "Observation", "id": "o1"},
        "biomarkers": {"resourceType": "Bundle", "type": "searchset", "entry": entries},
    }

    data = asyncio.run(gather_patient_data(templates, {"patientId": "p1"}, prefetch, lambda: None, 5.0))  # type: ignore[arg-type,return-value]

    assert [r["resourceType"] for r in data.resources["biomarkers"]] == ["Condition"]
    assert data.misplaced == {"biomarkers": ("type:Condition",), "patient": ("type:Observation",)}
