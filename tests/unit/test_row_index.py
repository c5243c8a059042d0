"""The row index (candidates.py) picks the recommendation and caution rows by HER2, HR, setting and phase once,
and checks each on its other conditions only: it must select exactly the rows whose whole `when` holds."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_service.clinical.candidates import candidates
from cds_service.clinical.conditions import holds
from cds_service.clinical.facts import PatientFacts
from cds_service.knowledge import Knowledge
from tests.unit.fact_grid import random_facts
from tests.unit.test_compiled_conditions import GRID, KNOWLEDGE

KINDS = ("recommendation", "caution")


def _by_index(knowledge: Knowledge, kind: str, facts: PatientFacts) -> list[tuple[int, str]]:
    return [(c.position, c.entry.id) for c in candidates(knowledge, kind, facts) if c.rest(facts)]


def _by_definition(knowledge: Knowledge, kind: str, facts: PatientFacts) -> list[tuple[int, str]]:
    rows = knowledge.of_kind(kind)
    return [(i, e.id) for i, e in enumerate(rows) if e.when is not None and holds(e.when, facts)]


@pytest.mark.parametrize("kind", KINDS)
def test_the_index_selects_the_rows_whose_when_holds_over_the_grid(kind: str) -> None:
    matched = 0
    for facts in GRID:
        expected = _by_definition(KNOWLEDGE, kind, facts)
        assert _by_index(KNOWLEDGE, kind, facts) == expected
        matched += len(expected)
    assert matched > len(GRID) // 10  # the grid reaches matching rows, not only empty selections


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_the_index_selects_the_rows_whose_when_holds_for_generated_facts(seed: int) -> None:
    facts = random_facts(random.Random(seed))
    for kind in KINDS:
        assert _by_index(KNOWLEDGE, kind, facts) == _by_definition(KNOWLEDGE, kind, facts)


def test_the_index_leaves_out_rows_the_gate_facts_rule_out() -> None:
    """It narrows the rows a call looks at (the point of it), and a value no row names (HER2 equivocal)
    admits only the rows that do not ask for a HER2 category."""
    facts = next(f for f in GRID if f.her2.category == "positive" and f.staging.setting == "early")
    everything = KNOWLEDGE.of_kind("recommendation")
    assert 0 < len(candidates(KNOWLEDGE, "recommendation", facts)) < len(everything) // 2
    equivocal = next(f for f in GRID if f.her2.category == "equivocal")
    assert all(c.entry.when is None or c.entry.when.her2 is None for c in candidates(KNOWLEDGE, "caution", equivocal))
