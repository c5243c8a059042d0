"""Whose resource this is (identity.py screens a record with it): the patient in context, another patient, not
confirmable, or nobody's. A module of its own, without the rules: the record's one grouping pass
(facts.group_own) judges each resource with it too."""

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Literal

from ..terminology import text
from .record import as_map

__all__ = ["Belonging", "belongs_to", "patient_target"]

Belonging = Literal["own", "other", "unconfirmed", "none"]

_PATIENT_REFERENCE = re.compile(r"(?:^|/)([A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?\Z")
# Resources that are always about one patient: without a patient reference they cannot be attributed.
_PATIENT_SPECIFIC = frozenset(
    {
        "Observation",
        "Condition",
        "MedicationRequest",
        "MedicationOrder",  # DSTU2
        "MedicationStatement",
        "MedicationAdministration",
        "MedicationDispense",
        "Procedure",
        "DiagnosticReport",
        "AllergyIntolerance",
        "Encounter",
        "ServiceRequest",
    }
)


def belongs_to(resource: Mapping[str, Any], patient_id: str) -> Belonging:
    """Whose resource this is: the patient in context, another patient, not confirmable, or nobody's
    (a Medication, an Organization: resources outside any patient compartment)."""
    kind = text(resource.get("resourceType"))
    if kind == "Patient":
        return "own" if text(resource.get("id")) == patient_id else "other"
    holder = resource.get("subject") if "subject" in resource else resource.get("patient")
    if holder is None:
        return "unconfirmed" if kind in _PATIENT_SPECIFIC else "none"
    reference = text(as_map(holder).get("reference"))
    target = patient_target(reference) if reference else None
    if target is None:
        return "unconfirmed"  # identifier only, `#contained`, `urn:uuid:`, or not a reference at all
    if target[0] != "Patient":
        return "other"  # a Group, a Device: not this patient
    return "own" if target[1] == patient_id else "other"


@lru_cache(maxsize=1024)  # every resource of a record names the same patient: one regex search per reference
def patient_target(reference: str) -> tuple[str, str] | None:
    match = _PATIENT_REFERENCE.search(reference)
    return (match.group(1), match.group(2)) if match else None
