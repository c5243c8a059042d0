"""A fast, conservative pre-check: is this Observation so plainly valid FHIR that validating it with
fhir.resources could only agree?

Charts are made of a few plain shapes (a coded test, a date, a quantity or a coded result, a patient
reference). Validating each selected Observation with fhir.resources cost a third of the engine's time on a
large record; this check accepts only those plain shapes, field by field with FHIR's own rules, and answers
"not sure" for anything else (an extension, a component, a period, an odd string), which then goes through
fhir.resources as before. So a verdict can only be skipped where it would have been "valid": the cards cannot
change. tests/unit/test_plain_fhir.py checks that direction against fhir.resources on generated resources."""

import math
import re
from collections.abc import Mapping
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


@lru_cache(maxsize=_REMEMBERED)
def _plain_string(value: str) -> bool:
    # Non-empty, no surrounding or control whitespace: a subset of what FHIR's string allows.
    return value != "" and value.isprintable() and value.strip() == value


@lru_cache(maxsize=_REMEMBERED)
def _plain_code(value: str) -> bool:
    return _CODE.fullmatch(value) is not None


@lru_cache(maxsize=_REMEMBERED)
def _plain_uri(value: str) -> bool:
    return _URI.fullmatch(value) is not None


def _codeable(value: Any) -> bool:
    """A non-empty CodeableConcept of only `coding` (a non-empty list of non-empty Codings) and `text`. Each Coding's
    three fields are judged by one remembered verdict (_plain_coding): every selected result has two or three."""
    if type(value) is not dict:
        return False
    coding, named = value.get("coding"), value.get("text")
    # Only these two fields, neither null: any other field (or a null) makes the counts differ.
    if not value or len(value) != (coding is not None) + (named is not None):
        return False
    if coding is not None:
        if type(coding) is not list or not coding:
            return False
        for each in coding:
            if type(each) is not dict or not each:
                return False
            system, code, display = each.get("system"), each.get("code"), each.get("display")
            if len(each) != (system is not None) + (code is not None) + (display is not None):
                return False  # another field (version, userSelected) or a null one
            try:
                if not _plain_coding(system, code, display):
                    return False
            except TypeError:  # a list or an object where a string belongs: unhashable, and not plain
                return False
    return named is None or (type(named) is str and _plain_string(named))


@lru_cache(maxsize=_REMEMBERED, typed=True)  # typed: a value of another type is never taken for a string's verdict
def _plain_coding(system: Any, code: Any, display: Any) -> bool:
    """A Coding's system, code and display, each absent (None) or a valid string of its kind."""
    return (
        (system is None or (type(system) is str and _plain_uri(system)))
        and (code is None or (type(code) is str and _plain_code(code)))
        and (display is None or (type(display) is str and _plain_string(display)))
    )


def _codeables(value: Any) -> bool:
    if type(value) is not list or not value:
        return False
    for item in value:
        if not _codeable(item):
            return False
    return True


def _quantity(value: Any) -> bool:
    """A Quantity with a number and only a comparator, unit, system and code besides, each a valid string."""
    if type(value) is not dict:
        return False
    number = value.get("value")
    if type(number) is int:
        if not -(2**53) < number < 2**53:
            return False
    elif type(number) is not float or not math.isfinite(number):  # the repr of a finite float is a FHIR decimal
        return False
    comparator, unit, system, code = value.get("comparator"), value.get("unit"), value.get("system"), value.get("code")
    if len(value) != 1 + (comparator is not None) + (unit is not None) + (system is not None) + (code is not None):
        return False  # another field, or a null one
    try:
        return _plain_quantity_strings(comparator, unit, system, code)
    except TypeError:  # unhashable: a list or an object where a string belongs
        return False


@lru_cache(maxsize=_REMEMBERED, typed=True)
def _plain_quantity_strings(comparator: Any, unit: Any, system: Any, code: Any) -> bool:
    return (
        (comparator is None or (type(comparator) is str and comparator in _COMPARATORS))
        and (unit is None or (type(unit) is str and _plain_string(unit)))
        and (system is None or (type(system) is str and _plain_uri(system)))
        and (code is None or (type(code) is str and _plain_code(code)))
    )


def _reference(value: Any) -> bool:
    """A Reference of only a reference and a display, both valid strings (at least one of them)."""
    if type(value) is not dict or not value:
        return False
    reference, display = value.get("reference"), value.get("display")
    if len(value) != (reference is not None) + (display is not None):
        return False
    return (reference is None or (type(reference) is str and _plain_string(reference))) and (
        display is None or (type(display) is str and _plain_string(display))
    )


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


def plainly_valid_observation(resource: Mapping[str, Any]) -> bool:
    """True only if fhir.resources would find this Observation valid; False means "validate it"."""
    if type(resource) is not dict:
        return False
    # Each allowed field read directly (absent: None) and checked; the fields counted: a resource with any other
    # field, or a null one, has more fields than were counted (every selected result of a chart comes here).
    status, code = resource.get("status"), resource.get("code")
    if type(status) is not str or status not in _STATUSES or not _codeable(code):
        return False
    kind, ident, category = resource.get("resourceType"), resource.get("id"), resource.get("category")
    subject, specimen, when = resource.get("subject"), resource.get("specimen"), resource.get("effectiveDateTime")
    quantity, coded, string = (
        resource.get("valueQuantity"),
        resource.get("valueCodeableConcept"),
        resource.get("valueString"),
    )
    values = (quantity is not None) + (coded is not None) + (string is not None)
    counted = 2 + (kind is not None) + (ident is not None) + (category is not None) + (subject is not None)
    if values > 1 or len(resource) != counted + (specimen is not None) + (when is not None) + values:
        return False
    return (
        (kind is None or kind == "Observation")
        and (ident is None or (type(ident) is str and _ID.fullmatch(ident) is not None))
        and (category is None or _codeables(category))
        and (subject is None or _reference(subject))
        and (specimen is None or _reference(specimen))
        and (when is None or (type(when) is str and _plain_date_time(when)))
        and (quantity is None or _quantity(quantity))
        and (coded is None or _codeable(coded))
        and (string is None or (type(string) is str and _plain_string(string)))
    )
