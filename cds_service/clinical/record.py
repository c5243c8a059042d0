"""Small, tolerant readers of raw FHIR JSON used to select and describe resources cheaply.

Selection by code happens on raw dicts (cheap look-ups); only the selected resources are then
validated with fhir.resources, so a large record costs little. Every reader accepts malformed
input (a string where an object belongs, a list where a code belongs) without raising."""

import re
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from ..terminology import codings, text

__all__ = [
    "ORDER_TYPES",
    "as_map",
    "describe_medication",
    "describe_value",
    "day_of",
    "draft_resources",
    "effective_date",
    "fhir_day",
    "external_medication",
    "condition_date",
    "first_display",
    "is_current_condition",
    "is_usable",
    "medication_concept",
    "medication_ingredients",
    "medications_to_fetch",
    "reference_of",
]

_INACTIVE = {"entered-in-error", "cancelled"}
# Medication orders the order hooks read: R4 MedicationRequest, and DSTU2 MedicationOrder as older
# clients send it (same medication[x]; `patient` instead of `subject`).
ORDER_TYPES = frozenset({"MedicationRequest", "MedicationOrder"})
_NOT_A_DIAGNOSIS = {"entered-in-error", "refuted"}


_NO_MAP: Mapping[str, Any] = MappingProxyType({})


def as_map(value: Any) -> Mapping[str, Any]:
    # A dict or a missing field (None) without the ABC check: this runs several times for every record read.
    if type(value) is dict:
        return value
    return _NO_MAP if value is None or not isinstance(value, Mapping) else value


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


_DAY = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")


def fhir_day(value: Any) -> str | None:
    """A FHIR date, dateTime or instant as YYYY-MM-DD; a partial date (2024, 2024-06) as its first day.

    Anything else (2024-02-30, "unknown", a number) is no date at all, so date arithmetic never fails."""
    return _day_of_text(value) if isinstance(value, str) else None


@lru_cache(maxsize=4096)  # a chart repeats its dates (many results a day): each is read once
def _day_of_text(value: str) -> str | None:
    match = _DAY.match(value)
    if not match:
        return None
    year, month, day = int(match.group(1)), int(match.group(2) or 1), int(match.group(3) or 1)
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def day_of(value: Any) -> date | None:
    """fhir_day as a date, for arithmetic."""
    day = fhir_day(value)
    return date.fromisoformat(day) if day else None


def reference_of(resource: Mapping[str, Any]) -> str:
    # Called for every resource several times a call: `text` inlined.
    kind, ident = resource.get("resourceType"), resource.get("id")
    return f"{kind if isinstance(kind, str) and kind else '?'}/{ident if isinstance(ident, str) and ident else '?'}"


def is_usable(resource: Mapping[str, Any]) -> bool:
    """Not retracted: an Observation or order with an inactive status, or a refuted Condition, is ignored."""
    if text(resource.get("status")) in _INACTIVE:
        return False
    status = resource.get("verificationStatus")
    if status is None:  # most resources (every Observation): no coding to read
        return True
    verification = {code for _, code, _ in codings(status)}
    return not verification & _NOT_A_DIAGNOSIS


def effective_date(observation: Mapping[str, Any]) -> str | None:
    """The clinically relevant date (YYYY-MM-DD) of an Observation, if it has one."""
    # The first readable one, each read only if those before it were not (nearly always the first).
    return (
        fhir_day(observation.get("effectiveDateTime"))
        or fhir_day(observation.get("effectiveInstant"))
        or fhir_day(as_map(observation.get("effectivePeriod")).get("start"))
        or fhir_day(observation.get("issued"))
    )


def first_display(codeable: Any) -> str | None:
    """The first coding's display (else its code) that says anything, else the text: codings() without the list."""
    codeable = as_map(codeable)
    coding = codeable.get("coding")
    for c in coding if isinstance(coding, list) else ():
        if type(c) is dict or isinstance(c, Mapping):
            display, code = c.get("display"), c.get("code")
            if isinstance(display, str) and display:
                return display
            if isinstance(code, str) and code:
                return code
    return text(codeable.get("text")) or None


@lru_cache(maxsize=1024)  # units are few and repeat with every result
def readable_unit(unit: str) -> str:
    """UCUM annotations read as words: `{ratio}` is no unit at all, `{copies}/{nucleus}` is copies/nucleus."""
    plain = re.sub(r"\{([^{}]*)\}", r"\1", unit).strip()
    return "" if plain.lower() in ("ratio", "1") else plain


def describe_value(observation: Mapping[str, Any]) -> str:
    """The result as recorded, without interpretation."""
    coded = observation.get("valueCodeableConcept")
    if coded is not None and isinstance(coded, Mapping):  # `is not None` first: no ABC check for a missing value
        return first_display(coded) or "coded value without display"
    quantity = as_map(observation.get("valueQuantity"))
    if "value" in quantity:
        return f"{quantity['value']} {readable_unit(text(quantity.get('unit')) or text(quantity.get('code')))}".strip()
    ratio = observation.get("valueRatio")
    if isinstance(ratio, Mapping):
        numerator = as_map(ratio.get("numerator")).get("value")
        denominator = as_map(ratio.get("denominator")).get("value")
        return f"{numerator}:{denominator}"
    for key in ("valueString", "valueInteger", "valueBoolean"):
        if key in observation:
            return str(observation[key])
    if isinstance(observation.get("dataAbsentReason"), Mapping):
        return f"no value ({first_display(observation['dataAbsentReason']) or 'data absent'})"
    return "no value recorded"


def medication_concept(
    order: Mapping[str, Any], draft_orders: Mapping[str, Any] | None, fetched: Mapping[str, Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """The medication CodeableConcept of a MedicationRequest.

    A `medicationReference` is followed into `contained`, the draft orders, or the Medications the
    data stage fetched; failing those, its `display` is the concept's text."""
    concept = order.get("medicationCodeableConcept")
    if type(concept) is dict or (concept is not None and isinstance(concept, Mapping)):
        return concept
    reference = as_map(order.get("medicationReference"))
    target = text(reference.get("reference"))
    candidates: list[Any] = []
    if target.startswith("#"):
        candidates = [r for r in as_list(order.get("contained")) if f"#{text(as_map(r).get('id'))}" == target]
    elif target:
        entries = [as_map(e).get("resource") for e in as_list(as_map(draft_orders).get("entry"))]
        candidates = [r for r in entries if isinstance(r, Mapping) and reference_of(r) == target]
        candidates.append(fetched.get(target))
    for medication in candidates:
        code = as_map(medication).get("code")
        if isinstance(code, Mapping):
            return code
    return {"text": text(reference.get("display"))} if text(reference.get("display")) else None


def medication_ingredients(
    order: Mapping[str, Any], draft_orders: Mapping[str, Any] | None, fetched: Mapping[str, Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """The ingredient concepts of the Medication an order references (contained, draft or fetched): a
    drug whose own code is unknown may still name its anti-HER2 ingredient there."""
    target = text(as_map(order.get("medicationReference")).get("reference"))
    if not target:
        return []
    if target.startswith("#"):
        found = [r for r in as_list(order.get("contained")) if f"#{text(as_map(r).get('id'))}" == target]
    else:
        entries = [as_map(e).get("resource") for e in as_list(as_map(draft_orders).get("entry"))]
        found = [r for r in entries if isinstance(r, Mapping) and reference_of(r) == target]
        found.append(fetched.get(target))
    return [
        item
        for medication in found
        for ingredient in as_list(as_map(medication).get("ingredient"))
        if isinstance(item := as_map(ingredient).get("itemCodeableConcept"), Mapping)
    ]


_MEDICATION_REFERENCE = re.compile(r"Medication/[A-Za-z0-9\-.]{1,64}")


def external_medication(order: Mapping[str, Any]) -> str | None:
    """`Medication/<id>` when the order names its drug only by reference to a separate resource."""
    if isinstance(order.get("medicationCodeableConcept"), Mapping):
        return None
    target = text(as_map(order.get("medicationReference")).get("reference"))
    # Only a plain `Medication/<id>` is read from the FHIR server (`Medication/../Patient/x` is not).
    return target if _MEDICATION_REFERENCE.fullmatch(target) else None


def draft_resources(draft_orders: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    """The draft orders' coded resources (the first per reference), built once per call: looking each order's
    Medication up here keeps a call linear in the number of orders (a scan per order was quadratic)."""
    found: dict[str, Mapping[str, Any]] = {}
    for entry in as_list(as_map(draft_orders).get("entry")):
        resource = as_map(entry).get("resource")
        if isinstance(resource, Mapping) and isinstance(resource.get("code"), Mapping):
            found.setdefault(reference_of(resource), resource)
    return found


def medications_to_fetch(orders: list[dict[str, Any]], draft_orders: Mapping[str, Any] | None) -> dict[str, str]:
    """Medications that orders name only by reference, found neither in the request nor by display."""
    wanted = {}
    known = draft_resources(draft_orders)
    for order in orders:
        reference = external_medication(order)
        if order.get("resourceType") in ORDER_TYPES and reference:
            if medication_concept(order, None, known) is None:
                wanted[reference] = reference
    return wanted


def describe_medication(resource: Mapping[str, Any], fallback: str) -> str:
    """The medication as the record names it (brand and strength included), else the drug's label."""
    shown = first_display(resource.get("medicationCodeableConcept"))
    return shown or text(as_map(resource.get("medicationReference")).get("display")) or fallback


def condition_date(condition: Mapping[str, Any]) -> str | None:
    for value in (
        condition.get("onsetDateTime"),
        as_map(condition.get("onsetPeriod")).get("start"),
        condition.get("recordedDate"),
    ):
        if fhir_day(value):
            return fhir_day(value)
    return None


def is_current_condition(condition: Mapping[str, Any]) -> bool:
    """Usable and not resolved, inactive or in remission (a missing clinicalStatus counts as current)."""
    clinical = {code for _, code, _ in codings(condition.get("clinicalStatus"))}
    return is_usable(condition) and not clinical & {"resolved", "inactive", "remission"}
