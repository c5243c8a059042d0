"""Issue 7, item 10: an order is explained only by rows of the patient's setting that match, or would match
once the missing fact is known; an order no row of the setting covers is a warning."""

from fastapi.testclient import TestClient

from tests.utils import clinical as c

from . import records as r
from .helpers import Card, Resource, checked_before_start, cited, select, topics

ago = c.ago
EARLY = ("N", "A")


def _sequence(cards: list[Card]) -> Card:
    found = [card for card in cards if topics([card]) == ["order-sequence"]]
    assert found, topics(cards)
    return found[0]


def _after_progression_on_hp() -> list[Resource]:
    """HR-negative metastatic, first-line THP given and stopped at progression: next is the second line."""
    return [
        c.breast_cancer(onset=ago(months=20)),
        c.metastasis("liver", onset=ago(months=19)),
        c.her2_ihc("3+", when=ago(months=18, days=-5)),
        *c.hormone_receptors(False),
        c.given("docetaxel", start=ago(months=18), end=ago(months=14)),
        c.given("trastuzumab", start=ago(months=18), end=ago(days=10)),
        c.given("pertuzumab", start=ago(months=18), end=ago(days=10)),
        *checked_before_start(),
    ]


def test_pertuzumab_alone_after_progression_on_hp_is_a_warning(client: TestClient, templates: dict[str, str]) -> None:
    cards = select(client, templates, _after_progression_on_hp(), c.order("pertuzumab"))

    card = _sequence(cards)
    assert card["indicator"] == "warning"
    assert not any(row.startswith(EARLY) for row in cited(card))
    assert not any(card["indicator"] == "info" and "matches" in card["summary"] for card in cards)


def test_a_metastatic_order_never_cites_early_disease_rows(client: TestClient, templates: dict[str, str]) -> None:
    """T-DM1 as first line for de novo metastatic disease: the warning cites M8, not the residual-disease A3."""
    cards = select(
        client, templates, [*r.de_novo_metastatic(), *checked_before_start()], c.order("trastuzumab-emtansine")
    )

    card = _sequence(cards)
    assert card["indicator"] == "warning"
    assert "M8" in cited(card) and not any(row.startswith(EARLY) for row in cited(card))


def test_record_lacks_cites_only_rows_the_missing_fact_could_open(
    client: TestClient, templates: dict[str, str]
) -> None:
    """HER2-low metastatic after chemotherapy, ER/PR not recorded, T-DXd ordered: L1 would match once HR is
    known; L2 (chemotherapy-naive) cannot, whatever HR is, and is not cited."""
    record = [
        c.breast_cancer(onset=ago(months=10)),
        c.metastasis("liver", onset=ago(months=9)),
        c.her2_ihc("1+", when=ago(months=8)),
        c.given("paclitaxel", start=ago(months=8), end=ago(months=3)),
        *checked_before_start(),
    ]

    card = _sequence(select(client, templates, record, c.order("trastuzumab-deruxtecan")))

    assert card["indicator"] == "info"
    assert cited(card) == {"L1"}
    assert "Hormone receptors" in card["summary"]


def test_pyrotinib_past_the_phila_ages_fits_but_says_so(client: TestClient, templates: dict[str, str]) -> None:
    """Pyrotinib ordered first line at 76: it fits M2, and the card says the patient is outside PHILA's ages."""
    older = [c.patient(age=76), *r.de_novo_metastatic(), *checked_before_start()]
    younger = [c.patient(age=52), *r.de_novo_metastatic(), *checked_before_start()]

    older_card = next(
        card for card in select(client, templates, older, c.order("pyrotinib")) if topics([card]) == ["M2"]
    )
    younger_card = next(
        card for card in select(client, templates, younger, c.order("pyrotinib")) if topics([card]) == ["M2"]
    )

    assert "**not met**" in older_card["detail"] and "Outside the population" in older_card["detail"]
    assert "**met**" in younger_card["detail"] and "Outside the population" not in younger_card["detail"]
