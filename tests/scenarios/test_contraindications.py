"""Issue 7 item 4: a contraindication wins. No card says an order fits the consensus without saying, in the
same card, that it is contraindicated now and why; LVEF at a label's hold or stop threshold with an
anti-HER2 order is critical; regimen cards for a pregnant patient say so; ILD before a first T-DXd dose
gets pre-treatment guidance (S9)."""

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.utils import clinical as c

from . import records as r
from .helpers import (
    RECOMMENDATIONS,
    Card,
    Resource,
    card_for,
    cited,
    not_pregnant,
    recommendation_rows,
    select,
    sign,
    topics,
    view,
)

ago = c.ago


def _fit_cards(cards: list[Card]) -> list[Card]:
    return [card for card in cards if card["source"]["topic"]["code"] in RECOMMENDATIONS]


def _lvef(*readings: tuple[float, int]) -> list[Resource]:
    return [c.lvef(percent, when=ago(days=days)) for percent, days in readings]


CONTRAINDICATED = [
    # (why, record, drug, the safety card, a word the fit card's summary must carry)
    (
        "pregnant, trastuzumab first line",
        lambda: [*r.de_novo_metastatic(), *_lvef((62, 10)), c.pregnant()],
        "trastuzumab",
        "S7",
        "pregnancy",
    ),
    (
        "pregnancy Condition, pertuzumab first line",
        lambda: [*r.de_novo_metastatic(), *_lvef((62, 10)), c.condition("77386006", "Pregnancy", onset=ago(days=60))],
        "pertuzumab",
        "S7",
        "pregnancy",
    ),
    (
        "trastuzumab: LVEF 65 → 48 % (16-point drop)",
        lambda: [*r.de_novo_metastatic(), *_lvef((65, 90), (48, 5)), not_pregnant()],
        "trastuzumab",
        "S2",
        "LVEF",
    ),
    (
        "trastuzumab: LVEF 60 → 49 % (below LLN with an 11-point drop)",
        lambda: [*r.de_novo_metastatic(), *_lvef((60, 90), (49, 5)), not_pregnant()],
        "trastuzumab",
        "S2",
        "LVEF",
    ),
    (
        "T-DXd: LVEF 38 %",
        lambda: [*r.her2_low_metastatic(hr=False, chemo=True), *_lvef((55, 90), (38, 5)), not_pregnant()],
        "trastuzumab-deruxtecan",
        "S5",
        "LVEF",
    ),
    (
        "T-DXd: LVEF 56 → 44 % (40–45 % with a 12-point drop)",
        lambda: [*r.her2_low_metastatic(hr=False, chemo=True), *_lvef((56, 90), (44, 5)), not_pregnant()],
        "trastuzumab-deruxtecan",
        "S5",
        "LVEF",
    ),
    (
        "ILD on record, first T-DXd",
        lambda: [*r.her2_low_metastatic(hr=False, chemo=True), *_lvef((60, 10)), not_pregnant(), c.ild()],
        "trastuzumab-deruxtecan",
        "S9",
        "ILD",
    ),
]


@pytest.mark.parametrize(
    ("why", "record", "drug", "safety", "word"), CONTRAINDICATED, ids=[x[0] for x in CONTRAINDICATED]
)
@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_a_contraindication_wins_over_a_fit(
    client: TestClient,
    templates: dict[str, str],
    why: str,
    record: Callable[[], list[Resource]],
    drug: str,
    safety: str,
    word: str,
    hook: str,
) -> None:
    call = select if hook == "order-select" else sign

    cards = call(client, templates, record(), c.order(drug))

    assert card_for(cards, safety)["indicator"] == "critical", why
    fits = _fit_cards(cards)
    assert fits, f"{why}: the order should still match a row: {topics(cards)}"
    for card in fits:
        assert card["indicator"] == "critical", f"{why}: {card['summary']}"
        assert word in card["summary"] and "CONTRAINDICATED" in card["summary"]
    assert cards[0]["indicator"] == "critical"


def test_the_fit_card_is_plain_without_a_contraindication(client: TestClient, templates: dict[str, str]) -> None:
    """Control: the same first-line trastuzumab order, not pregnant, LVEF normal: an info fit card."""
    record = [*r.de_novo_metastatic(), *_lvef((62, 10)), not_pregnant()]

    cards = select(client, templates, record, c.order("trastuzumab"))

    assert card_for(cards, "M1")["indicator"] == "info" and "CONTRAINDICATED" not in card_for(cards, "M1")["summary"]


def test_contraindicated_fit_in_chinese(client: TestClient, templates: dict[str, str]) -> None:
    record = [*r.de_novo_metastatic(), *_lvef((62, 10)), c.pregnant()]

    cards = select(client, templates, record, c.order("trastuzumab"), lang="zh-CN")

    assert "禁用" in card_for(cards, "M1")["summary"] and "妊娠" in card_for(cards, "M1")["summary"]


@pytest.mark.parametrize(
    ("why", "record", "drug"),
    [
        ("trastuzumab: LVEF 63 → 52 % (11 points, above LLN)", [*_lvef((63, 90), (52, 5))], "trastuzumab"),
        ("T-DXd: LVEF 50 → 44 % (6 points)", [*_lvef((50, 90), (44, 5))], "trastuzumab-deruxtecan"),
        ("T-DXd: LVEF 60 → 46 % (above 45 %)", [*_lvef((60, 90), (46, 5))], "trastuzumab-deruxtecan"),
    ],
    ids=["trastuzumab above LLN", "T-DXd small drop", "T-DXd above 45"],
)
def test_below_the_hold_thresholds_is_not_critical(
    client: TestClient, templates: dict[str, str], why: str, record: list[Resource], drug: str
) -> None:
    base = r.her2_low_metastatic(hr=False, chemo=True) if "deruxtecan" in drug else r.de_novo_metastatic()

    cards = select(client, templates, [*base, *record, not_pregnant()], c.order(drug))

    assert all(card["indicator"] != "critical" for card in cards), f"{why}: {topics(cards)}"


def test_on_therapy_lvef_drop_stays_a_warning_without_an_order(client: TestClient, templates: dict[str, str]) -> None:
    """patient-view on trastuzumab, 65 → 48 %: S2 is a warning to hold; critical only with a new order."""
    cards = view(client, templates, r.on_trastuzumab((65, 150), (48, 5)))

    assert card_for(cards, "S2")["indicator"] == "warning"


# -- patient-view: the regimen cards themselves say it ---------------------------------------------
def test_regimen_cards_of_a_pregnant_patient_say_so(client: TestClient, templates: dict[str, str]) -> None:
    cards = view(client, templates, [*r.early_before_surgery("cT2", "cN1"), c.pregnant()])

    with_drugs = [card for card in _fit_cards(cards) if card["source"]["topic"]["code"] in ("N2", "N3", "N4", "N5")]
    assert with_drugs
    for card in with_drugs:
        before_the_row = card["detail"].split(f"**{card['source']['topic']['code']} ·")[0]
        assert card["indicator"] == "warning" and "pregnant" in before_the_row
    assert card_for(cards, "S7")["indicator"] == "critical"


def test_regimen_cards_of_a_pregnant_patient_in_chinese(client: TestClient, templates: dict[str, str]) -> None:
    cards = view(client, templates, [*r.early_before_surgery("cT2", "cN1"), c.pregnant()], lang="zh-CN")

    assert "妊娠" in card_for(cards, "N2")["detail"].split("**N2 ·")[0]


def test_regimen_cards_of_a_patient_not_pregnant_stay_informational(
    client: TestClient, templates: dict[str, str]
) -> None:
    cards = view(client, templates, [*r.early_before_surgery("cT2", "cN1"), not_pregnant()])

    assert all(card["indicator"] == "info" for card in _fit_cards(cards))


def test_t_dxd_regimen_card_with_ild_on_record_says_so(client: TestClient, templates: dict[str, str]) -> None:
    cards = view(client, templates, [*r.early_relapse_after_adjuvant_trastuzumab(), c.ild()])

    assert "M6" in recommendation_rows(cards)
    m6 = card_for(cards, "M6")
    assert m6["indicator"] == "warning" and "ILD" in m6["detail"].split("**M6 ·")[0]
    assert card_for(cards, "S9")["indicator"] == "critical"


# -- S9: ILD/pneumonitis history before a first T-DXd dose -----------------------------------------
def test_s9_gives_the_pre_treatment_work_up(client: TestClient, templates: dict[str, str]) -> None:
    record = [*r.her2_low_metastatic(hr=False, chemo=True), *_lvef((60, 10)), not_pregnant(), c.ild()]

    cards = select(client, templates, record, c.order("trastuzumab-deruxtecan"))

    s9 = card_for(cards, "S9")
    assert s9["indicator"] == "critical" and "S9" in cited(s9)
    assert all(word in s9["detail"] for word in ("CT", "pulmonary", "DESTINY"))
    assert {o["code"] for o in s9.get("overrideReasons", [])} >= {"pulmonary-reviewed"}
    assert "S6" not in topics(cards)


def test_ild_after_t_dxd_was_given_is_s6_not_s9(client: TestClient, templates: dict[str, str]) -> None:
    """ILD that arose on T-DXd (T-DXd already given): grade-based management (S6), not the first-dose card."""
    cards = view(client, templates, [*r.on_tdxd((60, 40)), c.ild()])

    assert card_for(cards, "S6")["indicator"] == "critical" and "S9" not in topics(cards)


# -- LVEF below the start threshold (S1): the order card agrees with patient-view's "Not now" ------------
def test_a_first_dose_below_the_start_threshold_is_not_advised_on_the_order_card(
    client: TestClient, templates: dict[str, str]
) -> None:
    """T-DXd first dose, LVEF 60 → 47 % (13 points: neither T-DXd's nor trastuzumab's hold threshold): the S1
    warning says start not advised, and the fit card must not read as a plain endorsement beside it."""
    record = [*r.her2_low_metastatic(hr=False, chemo=True), *_lvef((60, 90), (47, 5)), not_pregnant()]

    for call in (select, sign):
        cards = call(client, templates, record, c.order("trastuzumab-deruxtecan"))

        assert "start not advised" in card_for(cards, "S1")["summary"]
        fits = _fit_cards(cards)
        assert fits and all(card["indicator"] == "warning" for card in fits)
        assert all(card["summary"].startswith("Not advised now (LVEF below the start threshold)") for card in fits)
        assert all(card["indicator"] != "critical" for card in cards)

    zh = sign(client, templates, record, c.order("trastuzumab-deruxtecan"), lang="zh-CN")
    assert all(card["summary"].startswith("目前不建议") for card in _fit_cards(zh))

    view_cards = view(client, templates, record)
    assert any("LVEF" in card["detail"].split("**")[1] for card in _fit_cards(view_cards) if "**" in card["detail"])


def test_a_patient_on_the_drug_below_50_is_reviewed_not_refused_a_start(
    client: TestClient, templates: dict[str, str]
) -> None:
    """On trastuzumab, LVEF 55 → 48 % (7 points: no hold): the next order is a cardiology review, not a
    "start not advised", and the fit card stays a fit."""
    cards = sign(client, templates, r.on_trastuzumab((55, 150), (48, 5)), c.order("trastuzumab"))

    s1 = card_for(cards, "S1")
    assert "on anti-HER2 therapy" in s1["summary"] and "start not advised" not in s1["summary"]
    assert not any(card["summary"].startswith("Not advised now") for card in cards)
