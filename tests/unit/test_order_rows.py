"""An order's rows (orders.matching_rows) are picked with the row index (candidates.py): they must be exactly the
rows the full check finds, each row's whole `when` asked of the order's facts, for every anti-HER2 drug ordered."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_service.clinical.conditions import holds
from cds_service.clinical.facts import PatientFacts
from cds_service.clinical.orders import _drugs_of, ingredients, matching_rows
from cds_service.config import Settings
from cds_service.knowledge import Knowledge, Recommendation
from cds_service.terminology import DrugMatch, load_terminology
from tests.unit.fact_grid import random_facts
from tests.unit.test_compiled_conditions import GRID, KNOWLEDGE

TERMINOLOGY = load_terminology(Settings().mappings_dir)
ORDERED = sorted(d for d in TERMINOLOGY.drugs if TERMINOLOGY.is_anti_her2(d))


def _full_check(
    knowledge: Knowledge, facts: PatientFacts, rows: list[Recommendation], drugs: set[str]
) -> tuple[list[str], list[str]]:
    """The former selection: every row giving the drug asked in full, then every caution naming one of `drugs`."""
    fitting: list[Recommendation] = []
    cautions: list[Recommendation] = []
    for entry in rows:
        assert entry.when is not None
        if holds(entry.when, facts):
            (cautions if entry.kind == "caution" else fitting).append(entry)
    for entry in knowledge.of_kind("caution"):
        assert entry.when is not None
        if drugs & set(entry.drugs) and all(c is not entry for c in cautions) and holds(entry.when, facts):
            cautions.append(entry)
    return [e.id for e in fitting], [e.id for e in cautions]


def _indexed(facts: PatientFacts, drug: str) -> tuple[tuple[list[str], list[str]], tuple[list[str], list[str]]]:
    match = DrugMatch(drug, None, "code")
    drugs = _drugs_of(match, TERMINOLOGY)
    rows = list(KNOWLEDGE.giving(ingredients(match, TERMINOLOGY)))
    fitting, cautions = matching_rows(KNOWLEDGE, facts, rows, drugs)
    return ([e.id for e in fitting], [e.id for e in cautions]), _full_check(KNOWLEDGE, facts, rows, drugs)


@pytest.mark.parametrize("drug", ORDERED)
def test_an_orders_rows_are_the_full_checks_over_the_grid(drug: str) -> None:
    for facts in GRID:
        indexed, full = _indexed(facts, drug)
        assert indexed == full


def test_the_grid_reaches_fitting_rows_and_cautions() -> None:
    """The comparison above is not between empty selections only."""
    found = [_indexed(facts, drug)[1] for drug in ORDERED for facts in GRID]
    assert sum(bool(fitting) for fitting, _ in found) > 100  # of 8,400 (most rows ask for more than a grid gives)
    assert sum(bool(cautions) for _, cautions in found) > 100
    assert len(ORDERED) >= 8  # trastuzumab, pertuzumab, Phesgo, T-DM1, T-DXd, the TKIs ...


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1), drug=st.sampled_from(ORDERED))
def test_an_orders_rows_are_the_full_checks_for_generated_facts(seed: int, drug: str) -> None:
    indexed, full = _indexed(random_facts(random.Random(seed)), drug)
    assert indexed == full
