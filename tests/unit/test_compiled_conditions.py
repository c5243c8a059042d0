"""Knowledge `when`s are compiled once into predicates: the fast yes/no (`holds`, which rank asks of every row
on every call) must agree with the full match that builds the card's fact lines, on every row and facts."""

from dataclasses import replace

import pytest

from cds_service.clinical.conditions import blocking, holds, lines_of, matches, missing_only
from cds_service.clinical.engine import load_engine
from cds_service.config import Settings
from cds_service.knowledge import Knowledge, When
from tests.unit.fact_grid import fact_grid


def _knowledge() -> Knowledge:
    settings = Settings()
    return load_engine(settings.mappings_dir, settings.cards_dir).knowledge


def _knowledge_whens(knowledge: Knowledge) -> list[When]:
    found: list[When] = []
    for entry in knowledge.entries.values():
        for when in (entry.when, entry.leads_when, *(q.checked_by for q in entry.qualifiers)):
            if when is not None:
                found += [when, *(when.any_of or ())]
    return found


KNOWLEDGE = _knowledge()
WHENS = _knowledge_whens(KNOWLEDGE)
GRID = list(fact_grid(600))


def test_the_grid_reaches_rows_that_hold_and_rows_that_do_not() -> None:
    held = {id(w) for w in WHENS for f in GRID if holds(w, f)}
    assert len(WHENS) > 50
    assert len(held) > len(WHENS) // 2  # the grid exercises most rows' conditions, not just their failures


@pytest.mark.parametrize("index", range(0, len(GRID), 60))
def test_holds_and_lines_agree_with_matches_blocking_and_missing_only(index: int) -> None:
    for facts in GRID[index : index + 60]:
        for when in WHENS:
            ok, used = matches(when, facts)
            assert holds(when, facts) == ok, when
            assert not ok or lines_of(when, facts) == used, when
            assert (blocking(when, facts) == ()) == ok, when
            assert (missing_only(when, facts) == ()) == ok, when


def test_each_when_is_compiled_with_its_own_limits() -> None:
    """Compiled by identity: a new `when` (tests, reloads) never reuses another one's predicate."""
    older = replace(GRID[0], age=70)
    assert holds(When(age_over=60), older)
    assert not holds(When(age_over=70), older)
    assert holds(When(age_at_most=70), older)
    assert not holds(When(age_at_most=69), older)
