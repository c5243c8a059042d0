"""Order checks: where an anti-HER2 order sits in the consensus for this patient (fits, caution, mismatch, sequence)."""

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.utils import clinical as c

from . import records as r
from .helpers import Resource, card_for, checked_before_start, select, sign, topics, view


def _ready(build: Callable[[], list[Resource]]) -> list[Resource]:
    return [*build(), *checked_before_start()]


FIT = [
    ("T-DM1 for residual disease after neoadjuvant HP", lambda: r.after_neoadjuvant("ypT2", "ypN1"),
     "trastuzumab-emtansine", "A3", "info"),
    ("pertuzumab for de novo metastatic HER2+", r.de_novo_metastatic, "pertuzumab", "M1", "info"),
    ("pyrotinib after first-line THP", r.metastatic_after_first_line, "pyrotinib", "M7", "info"),
    ("T-DXd for HER2-low metastatic after chemotherapy", lambda: r.her2_low_metastatic(hr=False, chemo=True),
     "trastuzumab-deruxtecan", "L1", "info"),
    ("T-DXd for HR+ HER2-ultralow metastatic after letrozole", r.ultralow_metastatic_after_endocrine,
     "trastuzumab-deruxtecan", "L2", "info"),
    ("T-DXd for HER2-low early disease", r.her2_low_early, "trastuzumab-deruxtecan", "L4", "warning"),
    ("T-DXd for HER2-0", lambda: r.her2_zero(metastatic=True), "trastuzumab-deruxtecan", "L5", "warning"),
    ("T-DM1 for HER2-0", lambda: r.her2_zero(metastatic=True), "trastuzumab-emtansine", "L5", "warning"),
    ("trastuzumab for HER2-0", lambda: r.her2_zero(metastatic=True), "trastuzumab", "order-her2-mismatch", "warning"),
    ("trastuzumab for HER2-low metastatic", lambda: r.her2_low_metastatic(hr=False), "trastuzumab",
     "order-her2-mismatch", "warning"),
    ("trastuzumab on IHC 2+ without ISH", lambda: [c.breast_cancer(), c.her2_ihc("2+")], "trastuzumab",
     "order-her2-unsettled", "warning"),
    ("T-DM1 as first line for de novo metastatic HER2+", r.de_novo_metastatic, "trastuzumab-emtansine",
     "order-sequence", "warning"),
    ("tucatinib in second line", r.metastatic_after_first_line, "tucatinib", "order-sequence", "warning"),
]  # fmt: skip


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
    assert all(f"**{row} ·" in fit["detail"] for row in ("M1", "M2", "M4"))
    assert "M6" not in topics(cards)


def test_order_sign_checks_each_anti_her2_order_once(client: TestClient, templates: dict[str, str]) -> None:
    """order-sign of paclitaxel + T-DXd for a HER2-0 patient: one L5 caution, nothing for paclitaxel."""
    cards = sign(client, templates, _ready(lambda: r.her2_zero(metastatic=True)), c.order("paclitaxel"),
                 c.order("trastuzumab-deruxtecan"))  # fmt: skip

    assert topics(cards).count("L5") == 1
    assert "paclitaxel" not in " ".join(card["summary"].lower() for card in cards)


def test_caution_in_patient_view_becomes_a_warning_on_therapy(client: TestClient, templates: dict[str, str]) -> None:
    """HER2-low early disease already on T-DXd: the L4 caution card is a warning, not just info."""
    record = [*r.her2_low_early(), c.given("trastuzumab-deruxtecan", start=c.ago(months=1), status="active")]

    cards = view(client, templates, [*record, c.lvef(60, when=c.ago(days=10))])

    assert card_for(cards, "L4")["indicator"] == "warning"
