"""Issue 7, items 7 and 8: the patient's situation decides which options lead, not only level and provenance."""

from fastapi.testclient import TestClient

from tests.utils import clinical as c

from . import records as r
from .helpers import (
    RECOMMENDATIONS,
    Card,
    Resource,
    also_matching,
    card_for,
    recommendation_rows,
    topics,
    view,
)

ago = c.ago


def _options(cards: list[Card]) -> list[str]:
    """Recommendation cards in the order they are shown."""
    return [t for t in topics(cards) if t in RECOMMENDATIONS]


# -- brain metastases ---------------------------------------------------------------------------------
def test_brain_metastases_newer_than_the_last_line_lead_with_local_therapy(
    client: TestClient, templates: dict[str, str]
) -> None:
    """On first-line HP, brain metastases found 10 days ago: B1 (local therapy) then B2 (CNS-active) lead."""
    record = [*r.metastatic_after_first_line(), c.brain_metastasis(onset=ago(days=10))]

    cards = view(client, templates, record)

    assert _options(cards)[:2] == ["B1", "B2"]
    assert "CNS-active" in card_for(cards, "B1")["detail"]


def test_brain_metastases_older_than_the_current_line_do_not_displace_it(
    client: TestClient, templates: dict[str, str]
) -> None:
    """Brain metastases known before the running line began: continuing the running line leads."""
    record = [*r.metastatic_after_first_line(), c.brain_metastasis(onset=ago(months=14))]

    assert _options(view(client, templates, record))[0] == "M5"


# -- maintenance and running regimens ---------------------------------------------------------------
def test_maintenance_without_progression_leads_with_continuing_it(
    client: TestClient, templates: dict[str, str]
) -> None:
    """On HP after THP induction: M5 first, as "continue"; the next-line options say "at progression"."""
    cards = view(client, templates, r.metastatic_after_first_line())

    options = _options(cards)
    assert options[0] == "M5"
    m5 = card_for(cards, "M5")
    assert m5["summary"].startswith("Continue") and "at progression" not in m5["detail"]
    assert all("at progression" in card_for(cards, o)["detail"] for o in options[1:])


def _on_neoadjuvant_thp() -> list[Resource]:
    return [
        *r.early_before_surgery("cT2", "cN1", stage="IIB"),
        c.given("docetaxel", start=ago(days=40), status="active"),
        c.given("trastuzumab", start=ago(days=40), status="active"),
        c.given("pertuzumab", start=ago(days=40), status="active"),
    ]


def test_a_running_neoadjuvant_regimen_is_continued_not_started(client: TestClient, templates: dict[str, str]) -> None:
    """THP already running before surgery: N3 leads as "continue"; TCbHP (N2) is not called running."""
    cards = view(client, templates, _on_neoadjuvant_thp())

    assert _options(cards)[0] == "N3"
    assert card_for(cards, "N3")["summary"].startswith("Continue")
    assert not card_for(cards, "N2")["summary"].startswith("Continue")


def test_without_a_running_regimen_nothing_says_continue(client: TestClient, templates: dict[str, str]) -> None:
    cards = view(client, templates, r.early_before_surgery())

    assert not any(card["summary"].startswith("Continue") for card in cards)


# -- conditional rows and age limits ----------------------------------------------------------------
def test_a_conditional_row_never_takes_a_top_slot(client: TestClient, templates: dict[str, str]) -> None:
    """De novo metastatic: M4 ("if pertuzumab unavailable") is listed, never one of the three cards."""
    cards = view(client, templates, r.de_novo_metastatic())

    assert "M4" not in _options(cards)
    assert "M4" in also_matching(card_for(cards, _options(cards)[0]))


def test_phila_regimen_is_not_proposed_first_past_the_trial_ages(client: TestClient, templates: dict[str, str]) -> None:
    """PHILA enrolled ages 18–75: at 76, M2 is not among the cards; at 52 it is."""
    older = view(client, templates, [c.patient(age=76), *r.de_novo_metastatic()])
    younger = view(client, templates, [c.patient(age=52), *r.de_novo_metastatic()])

    assert "M2" not in _options(older) and "M2" in recommendation_rows(older)
    assert "M2" in _options(younger)
    assert "**met**" in card_for(younger, "M2")["detail"]


def test_age_over_60_is_checked_not_asked_when_the_age_is_known(client: TestClient, templates: dict[str, str]) -> None:
    """N3's "age >60" is read from the record: met at 66 (N3 leads), not met at 50 (the rest to confirm)."""
    older = view(client, templates, [c.patient(age=66), *r.early_before_surgery()])
    younger = view(client, templates, [c.patient(age=50), *r.early_before_surgery()])

    assert _options(older)[0] == "N3"
    assert "**met**" in card_for(older, "N3")["detail"]
    n3 = card_for(younger, "N3")["detail"]
    assert "**not met**" in n3 and "age 60 or under" in n3


# -- every early presentation gets a next step (item 7) -----------------------------------------------
def test_ct1c_n0_gets_surgery_then_apt_or_neoadjuvant_th(client: TestClient, templates: dict[str, str]) -> None:
    cards = view(client, templates, r.early_before_surgery("cT1c", "cN0", stage="IA"))

    assert "N7" in _options(cards)
    assert "setting-unknown" not in topics(cards)


def test_node_positive_after_upfront_surgery_gets_hp_for_a_year(client: TestClient, templates: dict[str, str]) -> None:
    shown = recommendation_rows(view(client, templates, r.after_upfront_surgery("pT2", "pN1", stage="IIB")))

    assert "A6" in shown and not {"A8", "A13"} & shown


def test_high_risk_node_negative_gets_tcbh_with_pertuzumab_lower(client: TestClient, templates: dict[str, str]) -> None:
    """pT2 pN0: TCbH / AC→TH (A8) before the pertuzumab option (A13); not A6 (HP for node-positive)."""
    cards = view(client, templates, r.after_upfront_surgery("pT2", "pN0", stage="IIA"))

    options = [o for o in _options(cards) if o.startswith("A")] + also_matching(card_for(cards, _options(cards)[0]))
    assert "A6" not in recommendation_rows(cards)
    assert options.index("A8") < options.index("A13")
