"""Issue 7, item 9: retest HER2 on the new lesion (a metastasis, or residual disease at surgery), name it,
and stay quiet within one diagnostic work-up (her2_specimen_window_days)."""

from fastapi.testclient import TestClient

from tests.utils import clinical as c

from . import records as r
from .helpers import Card, Resource, topics, view

ago = c.ago


def _retest_cards(cards: list[Card]) -> list[Card]:
    return [card for card in cards if topics([card]) == ["T11"]]


def test_residual_disease_after_neoadjuvant_therapy_asks_for_a_retest(
    client: TestClient, templates: dict[str, str]
) -> None:
    """ypT2 ypN1 20 days ago, HER2 from the core biopsy 8 months ago: retest on the surgical specimen."""
    cards = view(client, templates, r.after_neoadjuvant("ypT2", "ypN1"))

    retest = _retest_cards(cards)
    assert retest and retest[0]["indicator"] == "warning"
    assert "surgical specimen" in retest[0]["summary"]
    assert "ypT2" in retest[0]["detail"] or "ypN1" in retest[0]["detail"]


def test_no_retest_after_a_complete_response(client: TestClient, templates: dict[str, str]) -> None:
    assert not _retest_cards(view(client, templates, r.after_neoadjuvant("ypT0", "ypN0")))


def test_no_retest_when_the_surgical_specimen_was_tested(client: TestClient, templates: dict[str, str]) -> None:
    record = [*r.after_neoadjuvant("ypT2", "ypN1"), c.her2_ihc("3+", when=ago(days=15))]

    assert not _retest_cards(view(client, templates, record))


def _relapse(metastasis_onset: str, her2_date: str) -> list[Resource]:
    return [
        c.breast_cancer(onset=ago(months=30)),
        c.her2_ihc("3+", when=her2_date),
        c.metastasis("liver", onset=metastasis_onset),
        *c.hormone_receptors(False),
    ]


def test_the_retest_card_names_the_new_lesion(client: TestClient, templates: dict[str, str]) -> None:
    record = _relapse(ago(days=30), ago(months=28))

    retest = _retest_cards(view(client, templates, record))

    assert retest and "liver" in retest[0]["summary"]
    metastasis = next(x for x in record if x["resourceType"] == "Condition" and "liver" in str(x["code"]))
    assert f"Condition/{metastasis['id']}" in retest[0]["detail"]


def test_a_one_day_gap_at_de_novo_diagnosis_is_one_work_up(client: TestClient, templates: dict[str, str]) -> None:
    """Metastasis recorded the day after the HER2 result of the same work-up: no retest card."""
    cards = view(client, templates, _relapse(ago(days=59), ago(days=60)))

    assert not _retest_cards(cards)


def test_a_metastasis_beyond_the_window_asks_for_a_retest(client: TestClient, templates: dict[str, str]) -> None:
    """The same chart with the metastasis 40 days after the HER2 result (window 30 days): retest."""
    cards = view(client, templates, _relapse(ago(days=20), ago(days=60)))

    assert _retest_cards(cards)
