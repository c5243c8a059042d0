"""Which recommendation and caution rows can match a patient: indexed once by the facts that gate them.

Nearly every row names the HER2 category and the setting it is for, most the treatment phase, some the HR
status. These four facts take a few values each, so the rows are sorted by them once per knowledge base, and
a call checks only the rows its patient's four facts admit, and those only on their other conditions.
`holds(entry.when, facts)` is the definition; tests hold the index to it."""

from collections.abc import Callable
from itertools import product
from typing import NamedTuple

from ..knowledge import Knowledge, Recommendation, When
from .conditions import predicate
from .facts import PatientFacts

__all__ = ["Candidate", "candidates", "prepare"]

# The `when` fields the index keys on, in the order of `_gate_values`.
_GATES = ("her2", "hr", "setting", "early_phase")
_UNGATED = dict.fromkeys(_GATES)
_KINDS = ("recommendation", "caution")


class Candidate(NamedTuple):
    position: int  # among the rows of its kind, in file order (rank breaks ties by it)
    entry: Recommendation
    rest: Callable[[PatientFacts], bool]  # the row's `when` without the gate fields the index checked


class _Index(NamedTuple):
    knowledge: Knowledge  # kept, so the id it is filed under is never another knowledge base's
    named: tuple[frozenset[str], ...]  # per gate: the values some row names (any other value admits the same)
    rows: dict[tuple[str, tuple[str | None, ...]], tuple[Candidate, ...]]  # (kind, gate values) -> rows


def _admits(when: When, values: tuple[str | None, ...]) -> bool:
    for name, value in zip(_GATES, values, strict=True):
        wanted = getattr(when, name)
        if wanted is not None and value not in wanted:  # an unknown fact (None) never satisfies a condition
            return False
    return True


def _build(knowledge: Knowledge) -> _Index:
    rows = [(kind, e) for kind in _KINDS for e in knowledge.of_kind(kind)]
    named = tuple(
        frozenset(v for _, e in rows if e.when is not None for v in getattr(e.when, name) or ()) for name in _GATES
    )
    # Each row's other conditions, compiled once: the gate fields are decided by the key it is filed under.
    rest: dict[str, Callable[[PatientFacts], bool]] = {
        e.id: predicate(e.when.model_copy(update=_UNGATED)) for _, e in rows if e.when is not None
    }
    index: dict[tuple[str, tuple[str | None, ...]], tuple[Candidate, ...]] = {}
    # Every combination of named values (None standing for any other value or none): a few hundred keys.
    for values in product(*(sorted(values) + [None] for values in named)):
        for kind in _KINDS:
            index[kind, values] = tuple(
                Candidate(position, e, rest[e.id])
                for position, e in enumerate(knowledge.of_kind(kind))
                if e.when is not None and _admits(e.when, values)
            )
    return _Index(knowledge, named, index)


_INDEXES: dict[int, _Index] = {}


def _index(knowledge: Knowledge) -> _Index:
    found = _INDEXES.get(id(knowledge))
    if found is None or found.knowledge is not knowledge:
        if len(_INDEXES) >= 16:  # one knowledge base in a server; tests load a few
            _INDEXES.clear()
        found = _INDEXES[id(knowledge)] = _build(knowledge)
    return found


def prepare(knowledge: Knowledge) -> None:
    """Build the index at start-up rather than in the first call."""
    _index(knowledge)


def _gate_values(facts: PatientFacts) -> tuple[str | None, ...]:
    return (facts.her2.category, facts.hr, facts.staging.setting, facts.staging.early_phase)


def candidates(knowledge: Knowledge, kind: str, facts: PatientFacts) -> tuple[Candidate, ...]:
    """The rows of `kind` ("recommendation" | "caution") whose gate fields admit the patient, in file order:
    a row matches exactly when it is among them and its `rest` holds."""
    index = _index(knowledge)
    values = _gate_values(facts)
    found = index.rows.get((kind, values))
    if found is None:  # a value no row names (HER2 equivocal): it admits what an unknown one does
        values = tuple(v if v in named else None for v, named in zip(values, index.named, strict=True))
        found = index.rows[kind, values]
    return found
