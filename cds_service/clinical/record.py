"""Small, tolerant readers of raw FHIR JSON used to select and describe resources cheaply.

Selection by code happens on raw dicts (cheap look-ups); only the selected resources are then
validated with fhir.resources, so a large record costs little."""

from collections.abc import Mapping
from typing import Any

__all__ = ["describe_value", "effective_date", "medication_concept", "reference_of"]

_INACTIVE = {"entered-in-error", "cancelled"}


def reference_of(resource: Mapping[str, Any]) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id', '?')}"


def is_usable(resource: Mapping[str, Any]) -> bool:
    return resource.get("status") not in _INACTIVE


def effective_date(observation: Mapping[str, Any]) -> str | None:
    """The clinically relevant date (YYYY-MM-DD) of an Observation, if it has one."""
    period = observation.get("effectivePeriod")
    for value in (
        observation.get("effectiveDateTime"),
        observation.get("effectiveInstant"),
        period.get("start") if isinstance(period, Mapping) else None,
        observation.get("issued"),
    ):
        if isinstance(value, str) and value:
            return value[:10]
    return None


def _concept_text(concept: Mapping[str, Any]) -> str | None:
    for coding in concept.get("coding") or ():
        if isinstance(coding, Mapping) and (coding.get("display") or coding.get("code")):
            return str(coding.get("display") or coding.get("code"))
    text = concept.get("text")
    return str(text) if text else None


def describe_value(observation: Mapping[str, Any]) -> str:
    """The result as recorded, without interpretation."""
    if isinstance(observation.get("valueCodeableConcept"), Mapping):
        return _concept_text(observation["valueCodeableConcept"]) or "coded value without display"
    quantity = observation.get("valueQuantity")
    if isinstance(quantity, Mapping) and "value" in quantity:
        return f"{quantity['value']} {quantity.get('unit') or quantity.get('code') or ''}".strip()
    ratio = observation.get("valueRatio")
    if isinstance(ratio, Mapping):
        numerator = (ratio.get("numerator") or {}).get("value")
        denominator = (ratio.get("denominator") or {}).get("value")
        return f"{numerator}:{denominator}"
    for key in ("valueString", "valueInteger", "valueBoolean"):
        if key in observation:
            return str(observation[key])
    if isinstance(observation.get("dataAbsentReason"), Mapping):
        return f"no value ({_concept_text(observation['dataAbsentReason']) or 'data absent'})"
    return "no value recorded"


def medication_concept(order: Mapping[str, Any], draft_orders: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The medication CodeableConcept of a MedicationRequest, following a contained or draft reference."""
    concept = order.get("medicationCodeableConcept")
    if isinstance(concept, Mapping):
        return concept
    reference = (order.get("medicationReference") or {}).get("reference")
    if not isinstance(reference, str):
        return None
    candidates: list[Any] = []
    if reference.startswith("#"):
        candidates = [r for r in order.get("contained") or () if f"#{r.get('id')}" == reference]
    elif draft_orders:
        candidates = [
            e.get("resource")
            for e in draft_orders.get("entry") or ()
            if isinstance(e.get("resource"), Mapping) and reference_of(e["resource"]) == reference
        ]
    for medication in candidates:
        code = medication.get("code") if isinstance(medication, Mapping) else None
        if isinstance(code, Mapping):
            return code
    return None
