"""Frozen copy of the former start and end readers of cds_service/clinical/therapy.py (the oracle for _period)."""

from collections.abc import Mapping
from typing import Any

from cds_service.clinical.record import as_list, as_map, fhir_day


def _bounds(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    dosage = as_map((as_list(resource.get("dosageInstruction")) or [None])[0])
    return as_map(as_map(as_map(dosage.get("timing")).get("repeat")).get("boundsPeriod"))


def start(resource: Mapping[str, Any], bounds: Mapping[str, Any] | None = None) -> str | None:
    return (
        fhir_day(as_map(resource.get("effectivePeriod")).get("start"))
        or fhir_day(resource.get("effectiveDateTime"))
        or fhir_day((_bounds(resource) if bounds is None else bounds).get("start"))
        or fhir_day(as_map(as_map(resource.get("dispenseRequest")).get("validityPeriod")).get("start"))
        or fhir_day(resource.get("authoredOn"))
        or fhir_day(resource.get("dateAsserted"))
    )


def end(resource: Mapping[str, Any], bounds: Mapping[str, Any] | None = None) -> str | None:
    return (
        fhir_day(as_map(resource.get("effectivePeriod")).get("end"))
        or fhir_day((_bounds(resource) if bounds is None else bounds).get("end"))
        or fhir_day(as_map(as_map(resource.get("dispenseRequest")).get("validityPeriod")).get("end"))
    )
