"""Terminology as data: code → concept look-ups built once from mappings/ and local ConceptMaps."""

from .loader import (
    ANTI_HER2_CLASSES,
    CHEMOTHERAPY_CLASSES,
    DrugMatch,
    Staging,
    Terminology,
    codings,
    load_terminology,
    normalise,
    text,
)
from .models import CodeEntry

__all__ = [
    "ANTI_HER2_CLASSES",
    "CHEMOTHERAPY_CLASSES",
    "CodeEntry",
    "DrugMatch",
    "Staging",
    "Terminology",
    "codings",
    "load_terminology",
    "normalise",
    "text",
]
