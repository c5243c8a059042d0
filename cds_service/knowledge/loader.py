"""Load cards/ once at start-up into one immutable Knowledge object, checking every cross-reference."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from ..datafiles import DataFileError, load_model
from .models import Definition, DefinitionFile, KnowledgeFile, Recommendation, Source, SourceFile

__all__ = ["Knowledge", "load_knowledge"]

SOURCES_FILE = "sources.yaml"
DEFINITIONS_FILE = "definitions.yaml"


@dataclass(frozen=True)
class Knowledge:
    entries: Mapping[str, Recommendation]  # id -> entry, in file order
    chapters: Mapping[str, str]  # id -> chapter
    sources: Mapping[str, Source]
    definitions: Mapping[str, Definition]
    # Rows by kind, in file order (the rules index them once: clinical/candidates.py).
    _by_kind: Mapping[str, tuple[Recommendation, ...]] = field(init=False, repr=False, compare=False)
    _giving: dict[frozenset[str], tuple[Recommendation, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_kind: dict[str, list[Recommendation]] = {}
        for entry in self.entries.values():
            by_kind.setdefault(entry.kind, []).append(entry)
        object.__setattr__(self, "_by_kind", MappingProxyType({k: tuple(v) for k, v in by_kind.items()}))
        object.__setattr__(self, "_giving", {})

    def entry(self, entry_id: str) -> Recommendation:
        return self.entries[entry_id]

    def parameter(self, entry_id: str, name: str) -> float:
        return self.entries[entry_id].parameters[name]

    def definition(self, name: str) -> float:
        return self.definitions[name].value

    def giving(self, drugs: frozenset[str]) -> tuple[Recommendation, ...]:
        """Recommendation and caution rows, in file order, with a regimen that gives every drug of `drugs`
        (an order's ingredients). Worked out once per set: an order-sign call asks for each order's."""
        found = self._giving.get(drugs)
        if found is None:
            found = tuple(
                e
                for e in self.entries.values()
                if e.kind in ("recommendation", "caution") and any(drugs <= set(r.drugs) for r in e.regimens)
            )
            self._giving[drugs] = found  # bounded: one set per drug and fixed combination ordered
        return found

    def of_kind(self, *kinds: str) -> list[Recommendation]:
        if len(kinds) == 1:
            return list(self._by_kind.get(kinds[0], ()))
        return [e for e in self.entries.values() if e.kind in kinds]


def load_knowledge(
    cards_dir: Path,
    drug_ids: Iterable[str],
    required: Mapping[str, Iterable[str]],
    required_definitions: Iterable[str],
) -> Knowledge:
    """`required` maps entry id -> parameter names the engine's logic reads from it."""
    sources = load_model(cards_dir / SOURCES_FILE, SourceFile).sources
    definitions_path = cards_dir / DEFINITIONS_FILE
    definitions = load_model(definitions_path, DefinitionFile).definitions
    for name in required_definitions:
        if name not in definitions:
            raise DataFileError(definitions_path, f"definitions.{name}", "required by the engine but missing")
    for name, definition in definitions.items():
        _check_sources(definitions_path, f"definitions.{name}.sources", definition.sources, sources)

    entries: dict[str, Recommendation] = {}
    chapters: dict[str, str] = {}
    where: dict[str, Path] = {}
    known_drugs = set(drug_ids)
    for path in sorted(cards_dir.glob("*.yaml")):
        if path.name in (SOURCES_FILE, DEFINITIONS_FILE):
            continue
        chapter = load_model(path, KnowledgeFile)
        for i, entry in enumerate(chapter.entries):
            field = f"entries.{i}"
            if entry.id in entries:
                raise DataFileError(path, f"{field}.id", f"{entry.id} is also defined in {where[entry.id].name}")
            _check_sources(path, f"{field}.sources", [*entry.sources, *filter(None, [entry.level_source])], sources)
            drugs = [*entry.drugs, *(d for r in entry.regimens for d in r.drugs), *_when_drugs(entry)]
            unknown = sorted(set(drugs) - known_drugs)
            if unknown:
                raise DataFileError(path, f"{field} ({entry.id})", f"unknown drug id(s): {', '.join(unknown)}")
            entries[entry.id], chapters[entry.id], where[entry.id] = entry, chapter.chapter, path
    for entry_id, entry in entries.items():
        parents = sorted(set(entry.within) - set(entries))
        if parents:
            raise DataFileError(where[entry_id], f"{entry_id}.within", f"unknown row id(s): {', '.join(parents)}")
        unread = sorted(set(entry.parameters) - set(required.get(entry_id, ())))
        if unread:
            raise DataFileError(
                where[entry_id], f"{entry_id}.parameters", f"not read by the engine: {', '.join(unread)}"
            )
    for entry_id, parameters in required.items():
        if entry_id not in entries:
            raise DataFileError(cards_dir, entry_id, "entry required by the engine is missing")
        missing = sorted(set(parameters) - set(entries[entry_id].parameters))
        if missing:
            raise DataFileError(where[entry_id], f"{entry_id}.parameters", f"missing {', '.join(missing)}")
    return Knowledge(
        entries=MappingProxyType(entries),
        chapters=MappingProxyType(chapters),
        sources=MappingProxyType(dict(sources)),
        definitions=MappingProxyType(dict(definitions)),
    )


def _check_sources(path: Path, field: str, ids: Iterable[str], sources: Mapping[str, Source]) -> None:
    unknown = sorted(set(ids) - set(sources))
    if unknown:
        raise DataFileError(path, field, f"unknown source id(s): {', '.join(unknown)}")


def _when_drugs(entry: Recommendation) -> list[str]:
    pending, found = [entry.when, entry.leads_when], []
    while pending:
        when = pending.pop()
        if when is None:
            continue
        found += [*(when.received_any or []), *(when.received_metastatic_any or []), *(when.on_any or [])]
        pending += when.any_of or []
    return found
