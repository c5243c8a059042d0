"""Order checks: where an anti-HER2 order sits in the consensus for this patient (fits, caution, mismatch, sequence)."""

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.utils import clinical as c

from . import records as r
from .helpers import Resource, card_for, checked_before_start, cited, select, sign, topics, view


def _ready(build: Callable[[], list[Resource]]) -> list[Resource]:
    return [*build(), *checked_before_start()]


FIT = [
    (
        "T-DM1 for residual disease after neoadjuvant HP",
        lambda: r.after_neoadjuvant("ypT2", "ypN1"),
        "trastuzumab-emtansine",
        "A3",
        "info",
    ),
    ("pertuzumab for de novo metastatic HER2+", r.de_novo_metastatic, "pertuzumab", "M1", "info"),
    ("pyrotinib after first-line THP", r.metastatic_after_first_line, "pyrotinib", "M7", "info"),
    (
        "T-DXd for HER2-low metastatic after chemotherapy",
        lambda: r.her2_low_metastatic(hr=False, chemo=True),
        "trastuzumab-deruxtecan",
        "L1",
        "info",
    ),
    (
        "T-DXd for HR+ HER2-ultralow metastatic after letrozole",
        r.ultralow_metastatic_after_endocrine,
        "trastuzumab-deruxtecan",
        "L2",
        "info",
    ),
    ("T-DXd for HER2-low early disease", r.her2_low_early, "trastuzumab-deruxtecan", "L4", "warning"),
    ("T-DXd for HER2-0", lambda: r.her2_zero(metastatic=True), "trastuzumab-deruxtecan", "L5", "warning"),
    ("T-DM1 for HER2-0", lambda: r.her2_zero(metastatic=True), "trastuzumab-emtansine", "L5", "warning"),
    ("trastuzumab for HER2-0", lambda: r.her2_zero(metastatic=True), "trastuzumab", "order-her2-mismatch", "warning"),
    (
        "trastuzumab for HER2-low metastatic",
        lambda: r.her2_low_metastatic(hr=False),
        "trastuzumab",
        "order-her2-mismatch",
        "warning",
    ),
    (
        "trastuzumab on IHC 2+ without ISH",
        lambda: [c.breast_cancer(), c.her2_ihc("2+")],
        "trastuzumab",
        "order-her2-unsettled",
        "warning",
    ),
    (
        "T-DM1 as first line for de novo metastatic HER2+",
        r.de_novo_metastatic,
        "trastuzumab-emtansine",
        "order-sequence",
        "warning",
    ),
    ("tucatinib in second line", r.metastatic_after_first_line, "tucatinib", "order-sequence", "warning"),
]


@pytest.mark.parametrize(("situation", "record", "drug", "expected", "indicator"), FIT, ids=[f[0] for f in FIT])
def test_order_fit(
    client: TestClient,
    templates: dict[str, str],
    situation: str,
    record: Callable[[], list[Resource]],
    drug: str,
    expected: str,
    indicator: str,
) -> None:
    """The selected order gets its fit card: matching row (info), caution, HER2 mismatch or sequence warning."""
    cards = select(client, templates, _ready(record), c.order(drug))

    assert card_for(cards, expected)["indicator"] == indicator, f"{situation}: {topics(cards)}"


def test_fit_card_lists_every_matching_row(client: TestClient, templates: dict[str, str]) -> None:
    """Trastuzumab for de novo metastatic HER2+: one fit card citing M1, M2 and M4 (the first-line rows with H)."""
    cards = select(client, templates, _ready(r.de_novo_metastatic), c.order("trastuzumab"))

    fit = card_for(cards, "M1")
    assert {"M1", "M2", "M4"} <= cited(fit)
    assert "M6" not in topics(cards)


def test_order_sign_checks_each_anti_her2_order_once(client: TestClient, templates: dict[str, str]) -> None:
    """order-sign of paclitaxel + T-DXd for a HER2-0 patient: one L5 caution, nothing for paclitaxel."""
    cards = sign(
        client,
        templates,
        _ready(lambda: r.her2_zero(metastatic=True)),
        c.order("paclitaxel"),
        c.order("trastuzumab-deruxtecan"),
    )

    assert topics(cards).count("L5") == 1
    assert "paclitaxel" not in " ".join(card["summary"].lower() for card in cards)


def test_caution_in_patient_view_becomes_a_warning_on_therapy(client: TestClient, templates: dict[str, str]) -> None:
    """HER2-low early disease already on T-DXd: the L4 caution card is a warning, not just info."""
    record = [*r.her2_low_early(), c.given("trastuzumab-deruxtecan", start=c.ago(months=1), status="active")]

    cards = view(client, templates, [*record, c.lvef(60, when=c.ago(days=10))])

    assert card_for(cards, "L4")["indicator"] == "warning"


# -- second review ---------------------------------------------------------------------------------


def test_phesgo_fits_only_regimens_with_both_trastuzumab_and_pertuzumab(
    client: TestClient, templates: dict[str, str]
) -> None:
    """De novo HER2+ metastatic: Phesgo is THP's HP (M1), not PHILA (M2, pyrotinib) nor T-DXd + P (M3)."""
    cards = select(client, templates, r.de_novo_metastatic(), c.order("x", concept={"text": "Phesgo"}))

    fit = card_for(cards, "M1")
    assert "**M2 ·" not in fit["detail"] and "**M3 ·" not in fit["detail"]


def test_order_sign_warns_on_anti_her2_drugs_no_regimen_combines(client: TestClient, templates: dict[str, str]) -> None:
    """T-DXd and trastuzumab signed together (a switch that left the old order open)."""
    cards = sign(
        client,
        templates,
        r.early_relapse_after_adjuvant_trastuzumab(),
        c.order("trastuzumab-deruxtecan"),
        c.order("trastuzumab"),
    )

    assert card_for(cards, "order-combination")["indicator"] == "warning"


def test_thp_signed_together_is_not_a_combination_warning_and_pregnancy_shows_once(
    client: TestClient, templates: dict[str, str]
) -> None:
    orders = [c.order("docetaxel"), c.order("trastuzumab"), c.order("pertuzumab")]

    cards = sign(client, templates, [*r.de_novo_metastatic(), c.pregnant()], *orders)

    assert "order-combination" not in topics(cards)
    pregnancy = [card for card in cards if topics([card]) == ["S7"]]
    assert len(pregnancy) == 1
    assert orders[1]["id"] in pregnancy[0]["detail"] and orders[2]["id"] in pregnancy[0]["detail"]


def test_an_order_for_another_patient_is_not_checked_against_this_record(
    client: TestClient, templates: dict[str, str]
) -> None:
    cards = select(client, templates, r.de_novo_metastatic(), c.order("trastuzumab", patient_id="other"))

    assert topics(cards) == ["order-readable"]
    assert "another patient" in cards[0]["summary"]


def test_facts_are_listed_once_on_an_order_card(client: TestClient, templates: dict[str, str]) -> None:
    card = card_for(select(client, templates, r.de_novo_metastatic(), c.order("pertuzumab")), "M1")
    facts = [line for line in card["detail"].split("**Basis**")[1].split("**Sources**")[0].splitlines() if line]

    assert len(facts) == len(set(facts))


def test_t_dxd_for_her2_low_before_chemotherapy_names_only_the_her2_low_rows(
    client: TestClient, templates: dict[str, str]
) -> None:
    cards = select(client, templates, r.her2_low_metastatic(hr=False), c.order("trastuzumab-deruxtecan"))

    card = card_for(cards, "order-sequence")
    assert "L1" in cited(card) and "M6" not in cited(card)


def test_hr_positive_her2_low_without_endocrine_therapy_is_not_l1_yet(
    client: TestClient, templates: dict[str, str]
) -> None:
    """L1: HR+ disease must be endocrine-refractory; chemotherapy alone is not enough."""
    cards = select(client, templates, r.her2_low_metastatic(hr=True, chemo=True), c.order("trastuzumab-deruxtecan"))

    assert "L1" not in topics(cards)
