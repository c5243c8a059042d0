"""Clinically important absences: what the service must not suggest."""

import re

import pytest
from fastapi.testclient import TestClient

from tests.utils import clinical as c

from . import records as r
from .helpers import (
    RECOMMENDATIONS,
    Card,
    Resource,
    card_for,
    checked_before_start,
    cited,
    recommendation_rows,
    select,
    shown_rows,
    sign,
    topics,
    view,
)

ago = c.ago
ANTI_HER2_NAMES = re.compile(
    r"trastuzumab|pertuzumab|T-DXd|T-DM1|deruxtecan|emtansine|lapatinib|neratinib|pyrotinib|tucatinib|disitamab|"
    r"inetetamab|margetuximab|rezetecan|\bTHP\b|\bHP\b|曲妥珠单抗|帕妥珠单抗|替尼",
    re.IGNORECASE,
)


def _recommendation_cards(cards: list[Card]) -> list[Card]:
    return [card for card in cards if card["source"]["topic"]["code"] in RECOMMENDATIONS]


HER2_ZERO = {
    "early": r.her2_zero(),
    "metastatic-hr-negative": r.her2_zero(metastatic=True),
    "metastatic-hr-positive": r.her2_zero(metastatic=True, hr=True),
    "metastatic-after-chemo-and-endocrine": [
        *r.her2_zero(metastatic=True, hr=True),
        c.given("paclitaxel", start=ago(months=2), end=ago(days=40)),
        c.given("letrozole", start=ago(days=35), status="active"),
    ],
}


@pytest.mark.parametrize("record", HER2_ZERO.values(), ids=HER2_ZERO.keys())
def test_her2_zero_gets_no_anti_her2_recommendation(
    client: TestClient, templates: dict[str, str], record: list[Resource]
) -> None:
    """HER2-0 (IHC 0, no staining): no recommendation card or listed option; no card summary names an anti-HER2 drug."""
    for lang in ("en", "zh-CN"):
        cards = view(client, templates, record, lang=lang)

        assert not recommendation_rows(cards), topics(cards)
        assert not [card["summary"] for card in cards if ANTI_HER2_NAMES.search(card["summary"])]
        assert card_for(cards, "L5")["indicator"] == "info"


IHC_2_PLUS = {
    "early-ct2-cn1": [c.breast_cancer(), c.her2_ihc("2+"), c.stage("IIB"), c.tnm("cT2"), c.tnm("cN1")],
    "de-novo-metastatic": [
        c.breast_cancer(onset=ago(months=3)),
        c.metastasis("liver", onset=ago(months=3)),
        c.her2_ihc("2+", when=ago(months=2)),
        *c.hormone_receptors(True),
    ],
    "residual-after-neoadjuvant": [
        c.breast_cancer(onset=ago(months=8)),
        c.her2_ihc("2+", when=ago(months=8)),
        c.stage("IIA", when=ago(months=8)),
        c.tnm("cT2", when=ago(months=8)),
        c.tnm("cN0", when=ago(months=8)),
        c.tnm("ypT2"),
        c.tnm("ypN1"),
    ],
}


@pytest.mark.parametrize("record", IHC_2_PLUS.values(), ids=IHC_2_PLUS.keys())
def test_ihc_2_plus_without_ish_gets_no_treatment_rows(
    client: TestClient, templates: dict[str, str], record: list[Resource]
) -> None:
    """IHC 2+ without ISH is equivocal: no N*/A*/M* recommendation until ISH is done; the T2 warning asks for it."""
    cards = view(client, templates, record)

    assert not {row for row in shown_rows(cards) if row[0] in "NAM" and row[1:].isdigit()}, topics(cards)
    assert not recommendation_rows(cards)
    assert "warning" in [card["indicator"] for card in cards if card["source"]["topic"]["code"] == "T2"]


@pytest.mark.parametrize(
    ("ratio", "copies", "row"), [(2.2, 3.0, "T4"), (1.5, 5.0, "T6")], ids=["ish-group-2", "ish-group-4"]
)
def test_ish_group_2_or_4_without_ihc_stays_equivocal(
    client: TestClient, templates: dict[str, str], ratio: float, copies: float, row: str
) -> None:
    """ISH group 2 or 4 with no concurrent IHC: HER2 stays equivocal (warning), never positive, no treatment rows."""
    record = [c.breast_cancer(), c.stage("IIA"), c.tnm("cT2"), c.tnm("cN0"), *c.ish_numbers(ratio, copies)]

    cards = view(client, templates, record)

    status = card_for(cards, "her2-status")
    assert status["indicator"] == "warning" and row in cited(status)
    assert "IHC" in status["summary"]  # the action leads: concurrent IHC decides
    assert not recommendation_rows(cards)


UNKNOWN_SETTING = {
    "no-staging": [c.breast_cancer(), c.her2_ihc("3+"), *c.hormone_receptors(True)],
    "ct2-without-cn": [c.breast_cancer(), c.her2_ihc("3+"), c.tnm("cT2")],
    "trastuzumab-given-no-staging": [
        c.breast_cancer(),
        c.her2_ihc("3+"),
        c.given("trastuzumab", start=ago(months=20), end=ago(months=8)),
    ],
}


@pytest.mark.parametrize("record", UNKNOWN_SETTING.values(), ids=UNKNOWN_SETTING.keys())
def test_unknown_setting_gets_no_setting_specific_rows(
    client: TestClient, templates: dict[str, str], record: list[Resource]
) -> None:
    """HER2+ without a stage group or cT+cN: no N/A/M row is guessed; a card asks for the stage instead."""
    cards = view(client, templates, record)

    assert not {row for row in shown_rows(cards) if row[0] in "NAM" and row[1:].isdigit()}, topics(cards)
    assert "setting-unknown" in topics(cards)


NOT_BREAST_CANCER = {
    "bare-patient": [c.patient()],
    "hypertension-with-lvef": [c.condition("38341003", "Hypertension"), c.lvef(60, when=ago(days=10))],
    "gastric-cancer-on-paclitaxel": [
        c.condition("363349007", "Malignant neoplasm of stomach"),
        c.given("paclitaxel", start=ago(months=1), status="active"),
    ],
}


@pytest.mark.parametrize("record", NOT_BREAST_CANCER.values(), ids=NOT_BREAST_CANCER.keys())
def test_chart_without_breast_cancer_or_her2_gets_no_cards(
    client: TestClient, templates: dict[str, str], record: list[Resource]
) -> None:
    """No breast cancer and no HER2 result on the chart: patient-view returns no cards at all."""
    assert view(client, templates, record) == []


@pytest.mark.parametrize(
    "record",
    [r.de_novo_metastatic(), r.her2_zero(metastatic=True), [c.breast_cancer(), c.her2_ihc("2+")]],
    ids=["her2-positive", "her2-zero", "her2-equivocal"],
)
@pytest.mark.parametrize("drug", ["paclitaxel", "docetaxel", "letrozole"])
def test_non_anti_her2_order_gets_no_cards(
    client: TestClient, templates: dict[str, str], record: list[Resource], drug: str
) -> None:
    """A chemotherapy or endocrine order is not an anti-HER2 order: order-select and order-sign stay silent."""
    record = [*record, *checked_before_start()]

    assert select(client, templates, record, c.order(drug)) == []
    assert sign(client, templates, record, c.order(drug), c.order("capecitabine")) == []
