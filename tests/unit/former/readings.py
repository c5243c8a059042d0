"""Frozen copy of the former numeric reader of cds_service/clinical/readings.py (the oracle for _number)."""

from collections.abc import Mapping
from typing import Any

from cds_service.clinical.record import as_map


def number(element: Mapping[str, Any]) -> float | None:
    quantity = as_map(element.get("valueQuantity"))
    value = quantity.get("value")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    ratio = as_map(element.get("valueRatio"))
    numerator = as_map(ratio.get("numerator")).get("value")
    denominator = as_map(ratio.get("denominator")).get("value")
    if isinstance(numerator, int | float) and isinstance(denominator, int | float) and denominator:
        return float(numerator) / float(denominator)
    integer = element.get("valueInteger")
    if isinstance(integer, int) and not isinstance(integer, bool):
        return float(integer)
    return None
