"""Cards a clinician reads in seconds, in either language, for every knowledge-row scenario.

The action first (summary and the part before the basis short, no row ids), short sources a committee can
follow (no file names, index ids, news or Q&A sites), and Chinese cards in Chinese except the chart's own text."""

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.utils import clinical as c

from . import records as r
from .helpers import Card, extension, sign, topics
from .test_rows import SCENARIOS, Scenario

ACTION_MAX = {"en": 600, "zh-CN": 350}
# Where knowledge was read, never what a card may cite.
INTERNAL = re.compile(
    r"clinical-knowledge|codes-verified|file id|\bfid\b|\.md\b|§|droracle|163\.com|zhihuiya|ccmtv|43u|"
    r"news-medical|ioncol|cmtopdr|cherimm|antonhealth|amegroups|\*\*Rule\*\*",
    re.IGNORECASE,
)
# Row ids that cannot be read as a TNM category (T1, N1, M1 can): none may show on a card.
ROW_ID = re.compile(r"\b(?:A|B|R|L|S|BIO|SC)\d{1,2}\b|\b[MTN]\d{1,2} · ")
ENGLISH = re.compile(  # "is" of ypTis is TNM notation, not English
    r"(?<!/)\b(the|and|of|for|with|not|is|are|to|Level|Evidence|Sources|Basis|Order|Rule|Recommendation|"
    r"Regimens|Trials|inferred|stated|unknown|recorded|patient|ordered|undated)\b"
)


def _own_text(detail: str) -> str:
    """The card's own words: the chart's text (after a resource reference) and code spans removed."""
    kept = [line.split(" — `")[0] for line in detail.splitlines()]
    return re.sub(r"`[^`]*`", "", "\n".join(kept))


def _action(card: Card) -> str:
    """The part of the detail a clinician reads first: the action and the decisive facts."""
    return re.split(r"\n\n\*\*(?:Basis|依据)\*\*", card.get("detail", ""))[0]


def _check(card: Card, language: str) -> list[str]:
    problems = []
    text = card["summary"] + "\n" + _own_text(card.get("detail", ""))
    if INTERNAL.search(text + card["source"]["label"]):
        problems.append(f"internal reference: {INTERNAL.search(text + card['source']['label'])}")
    if ROW_ID.search(text):
        problems.append(f"row id shown: {ROW_ID.search(text)}")
    if len(_action(card)) > ACTION_MAX[language]:
        problems.append(f"action part {len(_action(card))} characters")
    if language == "zh-CN" and ENGLISH.search(text):
        problems.append(f"English on a Chinese card: {ENGLISH.search(text)}")
    return problems


def _run(clients: Callable[[str], TestClient], templates: dict[str, str], scenario: Scenario, lang: str) -> list[Card]:
    client = clients(scenario.jurisdiction)
    record = scenario.record()
    if scenario.hook == "patient-view":
        from .helpers import view

        return view(client, templates, record, lang=lang)
    assert scenario.order is not None
    from .helpers import select

    if scenario.hook == "order-select":
        return select(client, templates, record, scenario.order(), lang=lang)
    return sign(client, templates, record, scenario.order(), lang=lang)


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
@pytest.mark.parametrize("scenario", [pytest.param(s, id=s.row) for s in SCENARIOS if not s.xfail])
def test_every_card_reads_in_seconds(
    clients: Callable[[str], TestClient], templates: dict[str, str], scenario: Scenario, lang: str
) -> None:
    cards = _run(clients, templates, scenario, lang)

    problems = {card["summary"]: _check(card, lang) for card in cards}
    assert not {k: v for k, v in problems.items() if v}, problems


def test_short_labels_are_never_cut_mid_word(clients: Callable[[str], TestClient], templates: dict[str, str]) -> None:
    """Source labels and summaries that had to be shortened end on a word and an ellipsis."""
    cards = [card for s in SCENARIOS if not s.xfail for card in _run(clients, templates, s, "en")]

    for card in cards:
        for value in (card["summary"], card["source"]["label"], card["source"]["topic"].get("display", "")):
            if value.endswith("…"):
                assert value[-2] != " " and re.search(r"[\w)）]…$", value), value
                words = value[:-1].split()
                assert words and len(words[-1]) > 0


def test_order_sign_gives_one_card_per_order_and_one_per_safety_topic(
    client: TestClient, templates: dict[str, str]
) -> None:
    """Three anti-HER2 drafts for a pregnant patient with an old LVEF: one pregnancy card and one LVEF card listing
    every order, and one card for each order."""
    record = [*r.de_novo_metastatic(), c.condition("77386006", "Pregnancy", onset=c.ago(days=40))]
    record += [c.lvef(62, when=c.ago(days=200))]
    orders = [c.order("trastuzumab"), c.order("pertuzumab"), c.order("docetaxel")]

    cards = sign(client, templates, record, *orders)

    rules = [extension(card).get("rules", []) for card in cards]
    assert sum("S7" in found and card["indicator"] == "critical" for found, card in zip(rules, cards, strict=True)) == 1
    assert sum(any(rule in ("S1", "S2", "S4", "S5") for rule in found) for found in rules) == 1
    pregnancy = next(card for card in cards if card["indicator"] == "critical")
    assert all(order["id"] in pregnancy["detail"] for order in orders[:2])
    order_cards = [card for card in cards if card["source"]["topic"]["code"] not in ("S1", "S7")]
    assert len(order_cards) == 2, topics(cards)  # trastuzumab and pertuzumab; docetaxel is not anti-HER2
