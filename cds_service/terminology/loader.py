"""Build immutable look-up tables from mappings/ once, at start-up."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..datafiles import load_model
from .models import ConditionCodeFile, DrugFile, ObservationCodeFile

__all__ = ["Terminology", "codings", "load_terminology", "text"]

OBSERVATION_CODES_FILE = "observation-codes.yaml"
DRUGS_FILE = "anti-her2-drugs.yaml"
CONDITION_CODES_FILE = "condition-codes.yaml"


@dataclass(frozen=True)
class Terminology:
    observation_concepts: Mapping[tuple[str, str], str]  # (system, code) -> concept id
    prefetch_codes: Mapping[str, tuple[tuple[str, str], ...]]  # prefetch key -> codes to query
    drug_codes: Mapping[tuple[str, str], str]  # (system, code) -> drug id
    drug_names: tuple[tuple[re.Pattern[str], str], ...]  # longest name first
    condition_codes: Mapping[tuple[str, str], str]  # (system, code) -> concept id
    condition_prefixes: tuple[tuple[str, str, str], ...]  # (system, code prefix, concept id)

    def condition_concept(self, codeable: Any) -> str | None:
        for system, code, _ in codings(codeable):
            concept = self.condition_codes.get((system, code))
            if concept:
                return concept
            for prefix_system, prefix, prefix_concept in self.condition_prefixes:
                if system == prefix_system and code.startswith(prefix):
                    return prefix_concept
        return None

    def observation_concept(self, codeable: Any) -> str | None:
        for system, code, _ in codings(codeable):
            concept = self.observation_concepts.get((system, code))
            if concept:
                return concept
        return None

    def drug(self, codeable: Any) -> str | None:
        """The anti-HER2 drug a medication concept names, by code first, then by name."""
        found = codings(codeable)
        for system, code, _ in found:
            drug = self.drug_codes.get((system, code))
            if drug:
                return drug
        texts = [text(codeable.get("text")) if isinstance(codeable, Mapping) else ""] + [d for _, _, d in found]
        for pattern, drug in self.drug_names:
            if any(pattern.search(t) for t in texts if t):
                return drug
        return None


def text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def codings(codeable: Any) -> list[tuple[str, str, str]]:
    """(system, code, display) of each coding; malformed parts read as "" so odd data never raises."""
    if not isinstance(codeable, Mapping) or not isinstance(codeable.get("coding"), list):
        return []
    return [
        (text(c.get("system")), text(c.get("code")), text(c.get("display")))
        for c in codeable["coding"]
        if isinstance(c, Mapping)
    ]


def _name_pattern(name: str) -> re.Pattern[str]:
    # Latin names match as whole words ("trastuzumab-dkst" still counts); CJK names as substrings.
    if name.isascii():
        return re.compile(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])", re.IGNORECASE)
    return re.compile(re.escape(name))


def load_terminology(mappings_dir: Path) -> Terminology:
    observations = load_model(mappings_dir / OBSERVATION_CODES_FILE, ObservationCodeFile)
    drugs = load_model(mappings_dir / DRUGS_FILE, DrugFile)
    conditions = load_model(mappings_dir / CONDITION_CODES_FILE, ConditionCodeFile)
    condition_entries = [(concept_id, e) for concept_id, c in conditions.concepts.items() for e in c.codes]

    concepts: dict[tuple[str, str], str] = {}
    prefetch: dict[str, list[tuple[str, str]]] = {}
    for concept_id, concept in observations.concepts.items():
        for entry in concept.codes:
            concepts[(entry.system, entry.code)] = concept_id
            prefetch.setdefault(concept.prefetch, []).append((entry.system, entry.code))

    drug_codes = {(c.system, c.code): drug_id for drug_id, drug in drugs.drugs.items() for c in drug.codes}
    names = sorted(
        ((n, drug_id) for drug_id, drug in drugs.drugs.items() for n in drug.names), key=lambda p: -len(p[0])
    )

    return Terminology(
        observation_concepts=MappingProxyType(concepts),
        prefetch_codes=MappingProxyType({k: tuple(v) for k, v in prefetch.items()}),
        drug_codes=MappingProxyType(drug_codes),
        drug_names=tuple((_name_pattern(n), drug_id) for n, drug_id in names),
        condition_codes=MappingProxyType(
            {(e.system, e.code): cid for cid, e in condition_entries if e.match == "exact"}
        ),
        condition_prefixes=tuple((e.system, e.code, cid) for cid, e in condition_entries if e.match == "prefix"),
    )
