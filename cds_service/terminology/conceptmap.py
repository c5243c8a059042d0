"""Local codes from FHIR ConceptMap files: how integrators teach the service their own codes.

Each mapping says "local system|code is equivalent to standard system|code" (a code this service
already knows: LOINC, SNOMED CT, RxNorm, ATC ...) or to one of this service's concept ids (target
system `urn:her2-cds:concept`, e.g. a drug id such as `pyrotinib`). Only `equivalent` and `equal`
mappings are used: a wider or narrower code could turn a non-HER2 result into a HER2 decision. A
mapping to a target the service does not know stops start-up, naming the file and the element."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from fhir.resources.R4B.conceptmap import ConceptMap
from pydantic import ValidationError

from ..datafiles import DataFileError

__all__ = ["CONCEPT_SYSTEM", "LocalCode", "load_concept_maps"]

CONCEPT_SYSTEM = "urn:her2-cds:concept"
USABLE = frozenset({"equivalent", "equal"})
Key = tuple[str, str]


@dataclass(frozen=True)
class LocalCode:
    key: Key  # the local (system, code)
    table: str  # observation | value | staging | condition | drug
    concept: str  # the concept id, value id, drug or product id it means
    target: Key  # the standard (system, code) it was mapped to
    source_file: str


def _read(path: Path) -> ConceptMap:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataFileError(path, "", f"cannot read: {exc}") from exc
    try:
        return ConceptMap.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise DataFileError(path, ".".join(str(p) for p in first["loc"]), first["msg"]) from exc


def load_concept_maps(
    paths: Sequence[Path],
    known: Mapping[str, Mapping[Key, str]],
    concept_ids: Mapping[str, set[str]],
) -> list[LocalCode]:
    """Local codes of every ConceptMap; `known` maps each table's standard codes to concept ids."""
    found: dict[Key, LocalCode] = {}
    for path in paths:
        concept_map = _read(path)
        for g, group in enumerate(concept_map.group or []):
            if not group.source or not group.target:
                raise DataFileError(path, f"group.{g}", "source and target systems are required")
            for e, element in enumerate(group.element or []):
                for t, target in enumerate(element.target or []):
                    field = f"group.{g}.element.{e}.target.{t}"
                    if target.equivalence not in USABLE or not element.code or not target.code:
                        continue
                    item = _resolve(
                        (group.source, element.code), (group.target, target.code), known, concept_ids, path.name
                    )
                    if item is None:
                        raise DataFileError(path, field, f"unknown target {group.target}|{target.code}")
                    previous = found.get(item.key)
                    if previous and (previous.table, previous.concept) != (item.table, item.concept):
                        raise DataFileError(
                            path, field, f"{group.source}|{element.code} already means {previous.concept}"
                        )
                    found[item.key] = item
    return list(found.values())


def _resolve(
    local: Key,
    target: Key,
    known: Mapping[str, Mapping[Key, str]],
    concept_ids: Mapping[str, set[str]],
    source_file: str,
) -> LocalCode | None:
    if target[0] == CONCEPT_SYSTEM:
        for table, ids in concept_ids.items():
            if target[1] in ids:
                return LocalCode(local, table, target[1], target, source_file)
        return None
    for table, codes in known.items():
        if target in codes:
            return LocalCode(local, table, codes[target], target, source_file)
    return None
