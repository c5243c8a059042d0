"""Frozen copy (the oracle for tests/unit/test_plain_fhir.py) of the former cds_service/clinical/plainfhir.py.

A fast, conservative pre-check: is this Observation so plainly valid FHIR that validating it with
fhir.resources could only agree?

Charts are made of a few plain shapes (a coded test, a date, a quantity or a coded result, a patient
reference). Validating each selected Observation with fhir.resources cost a third of the engine's time on a
large record; this check accepts only those plain shapes, field by field with FHIR's own rules, and answers
"not sure" for anything else (an extension, a component, a period, an odd string), which then goes through
fhir.resources as before. So a verdict can only be skipped where it would have been "valid": the cards cannot
change. tests/unit/test_plain_fhir.py checks that direction against fhir.resources on generated resources."""

import math
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Any

__all__ = ["plainly_valid_observation"]

_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_CODE = re.compile(r"[^\s]+( [^\s]+)*")  # FHIR `code`, single spaces only (stricter than FHIR's \s)
_URI = re.compile(r"[!-~]+")  # printable ASCII, no spaces: a subset of FHIR's \S*
_DATE = re.compile(r"[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])")
_DATETIME = re.compile(
    r"[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(\.[0-9]{1,6})?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])"
)
_STATUSES = frozenset(
    {"registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error", "unknown"}
)
_COMPARATORS = frozenset({"<", "<=", ">=", ">"})


# A chart repeats its systems, codes, names and dates: each string's verdict is remembered (bounded), so a
# selected Observation costs a few look-ups rather than a dozen regex matches.
_REMEMBERED = 8192


def _string(value: Any) -> bool:
    return type(value) is str and _plain_string(value)


@lru_cache(maxsize=_REMEMBERED)
def _plain_string(value: str) -> bool:
    # Non-empty, no surrounding or control whitespace: a subset of what FHIR's string allows.
    return value != "" and value.isprintable() and value.strip() == value


def _code(value: Any) -> bool:
    return type(value) is str and _plain_code(value)


@lru_cache(maxsize=_REMEMBERED)
def _plain_code(value: str) -> bool:
    return _CODE.fullmatch(value) is not None


def _uri(value: Any) -> bool:
    return type(value) is str and _plain_uri(value)


@lru_cache(maxsize=_REMEMBERED)
def _plain_uri(value: str) -> bool:
    return _URI.fullmatch(value) is not None


def _element(value: Any, fields: Mapping[str, Callable[[Any], bool]]) -> bool:
    """A non-empty object with only these fields, each valid."""
    if type(value) is not dict or not value:
        return False
    for key, item in value.items():
        check = fields.get(key)
        if check is None or not check(item):
            return False
    return True


def _text_element(value: Any, fields: Mapping[str, Callable[[str], bool]]) -> bool:
    """A non-empty object with only these fields, each a valid string: the string checks are called directly
    (Coding, Reference: their fields are all strings)."""
    if type(value) is not dict or not value:
        return False
    for key, item in value.items():
        check = fields.get(key)
        if check is None or type(item) is not str or not check(item):
            return False
    return True


def _codings(value: Any) -> bool:
    if type(value) is not list or not value:
        return False
    for item in value:  # a loop, not all(generator): this runs for every coding of every selected result
        if not _text_element(item, _CODING):
            return False
    return True


def _codeable(value: Any) -> bool:
    if type(value) is not dict or not value:
        return False
    for key, item in value.items():
        if key == "coding":
            if not _codings(item):
                return False
        elif key != "text" or type(item) is not str or not _plain_string(item):
            return False
    return True


def _codeables(value: Any) -> bool:
    if type(value) is not list or not value:
        return False
    for item in value:
        if not _codeable(item):
            return False
    return True


def _reference(value: Any) -> bool:
    return _text_element(value, _REFERENCE)


def _decimal(value: Any) -> bool:
    if type(value) is int:
        return -(2**53) < value < 2**53
    # The shortest repr of every finite float is a FHIR decimal (tests/unit/test_plain_fhir.py checks it): no regex.
    return type(value) is float and math.isfinite(value)


def _quantity(value: Any) -> bool:
    if type(value) is not dict or "value" not in value:
        return False
    for key, item in value.items():
        if key == "value":
            if not _decimal(item):
                return False
        else:
            check = _QUANTITY.get(key)
            if check is None or type(item) is not str or not check(item):
                return False
    return True


def _date_time(value: Any) -> bool:
    return type(value) is str and _plain_date_time(value)


@lru_cache(maxsize=_REMEMBERED)
def _plain_date_time(value: str) -> bool:
    try:
        if len(value) == 10 and _DATE.fullmatch(value):
            date.fromisoformat(value)
            return True
        if _DATETIME.fullmatch(value):
            return datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False
    return False


_CODING: dict[str, Callable[[str], bool]] = {"system": _plain_uri, "code": _plain_code, "display": _plain_string}
_REFERENCE: dict[str, Callable[[str], bool]] = {"reference": _plain_string, "display": _plain_string}
_QUANTITY: dict[str, Callable[[str], bool]] = {  # besides "value", a number
    "comparator": lambda v: v in _COMPARATORS,
    "unit": _plain_string,
    "system": _plain_uri,
    "code": _plain_code,
}
_OBSERVATION: dict[str, Callable[[Any], bool]] = {
    "resourceType": lambda v: v == "Observation",
    "id": lambda v: type(v) is str and _ID.fullmatch(v) is not None,
    "status": lambda v: type(v) is str and v in _STATUSES,
    "category": _codeables,
    "code": _codeable,
    "subject": _reference,
    "specimen": _reference,
    "effectiveDateTime": _date_time,
    "valueQuantity": _quantity,
    "valueCodeableConcept": _codeable,
    "valueString": _string,
}


def plainly_valid_observation(resource: Mapping[str, Any]) -> bool:
    """True only if fhir.resources would find this Observation valid; False means "validate it"."""
    if "status" not in resource or "code" not in resource:
        return False
    values = ("valueQuantity" in resource) + ("valueCodeableConcept" in resource) + ("valueString" in resource)
    return values <= 1 and _element(resource, _OBSERVATION)
