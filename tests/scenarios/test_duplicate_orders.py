"""Issue 7 item 3: two orders that deliver the same anti-HER2 ingredient get a warning naming both orders
and both products; each product keeps its own identity (its own biosimilar card)."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.utils import clinical as c

from . import records as r
from .helpers import Card, Resource, checked_before_start, extension, order_named, select, sign, topics

PAIRS = [
    # (why, first order, second order, a word of each product the card must name)
    ("IV + SC trastuzumab", ("Herceptin", "trastuzumab"), ("Herceptin Hylecta", None), ("Herceptin", "Hylecta")),
    (
        "originator + biosimilar",
        ("Herceptin", "trastuzumab"),
        ("Ogivri (trastuzumab-dkst)", None),
        ("Herceptin", "Ogivri"),
    ),
    ("Phesgo + IV trastuzumab", ("Phesgo", None), ("trastuzumab", "trastuzumab"), ("Phesgo", "trastuzumab")),
    ("Phesgo + IV pertuzumab", ("Phesgo", None), ("Perjeta", "pertuzumab"), ("Phesgo", "Perjeta")),
    ("two trastuzumab biosimilars", ("Ogivri", None), ("Kanjinti", None), ("Ogivri", "Kanjinti")),
    ("Chinese biosimilar + originator", ("注射用曲妥珠单抗 汉曲优", None), ("赫赛汀", None), ("汉曲优", "赫赛汀")),
    ("Herceptin SC + Phesgo", ("Herceptin SC", None), ("Phesgo", None), ("Herceptin SC", "Phesgo")),
]
NOT_DUPLICATES = [
    ("trastuzumab + pertuzumab (HP)", ("trastuzumab", "trastuzumab"), ("pertuzumab", "pertuzumab")),
    ("T-DM1 + trastuzumab: T-DM1 is not trastuzumab therapy", ("Kadcyla", None), ("Herceptin", "trastuzumab")),
    ("T-DXd + pertuzumab", ("Enhertu", None), ("Perjeta", "pertuzumab")),
]


def _ready() -> list[Resource]:
    return [*r.de_novo_metastatic(), *checked_before_start()]


def _order(spec: tuple[str, str | None]) -> Resource:
    return order_named(*spec)


def _duplicates(cards: list[Card]) -> list[Card]:
    return [card for card in cards if card["source"]["topic"]["code"] == "order-duplicate"]


@pytest.mark.parametrize(("why", "first", "second", "names"), PAIRS, ids=[p[0] for p in PAIRS])
def test_two_draft_orders_of_one_ingredient_warn(
    client: TestClient,
    templates: dict[str, str],
    why: str,
    first: tuple[str, str | None],
    second: tuple[str, str | None],
    names: tuple[str, str],
) -> None:
    a, b = _order(first), _order(second)

    cards = sign(client, templates, _ready(), a, b)

    (card,) = _duplicates(cards)
    assert card["indicator"] == "warning", why
    assert f"MedicationRequest/{a['id']}" in card["detail"] and f"MedicationRequest/{b['id']}" in card["detail"]
    text = card["summary"] + card["detail"]
    assert all(name in text for name in names), f"{why}: {card['summary']}"


@pytest.mark.parametrize(("why", "first", "second"), NOT_DUPLICATES, ids=[n[0] for n in NOT_DUPLICATES])
def test_different_ingredients_are_not_duplicates(
    client: TestClient,
    templates: dict[str, str],
    why: str,
    first: tuple[str, str | None],
    second: tuple[str, str | None],
) -> None:
    cards = sign(client, templates, _ready(), _order(first), _order(second))

    assert not _duplicates(cards), why


def test_t_dxd_with_trastuzumab_stays_a_combination_warning(client: TestClient, templates: dict[str, str]) -> None:
    cards = sign(client, templates, _ready(), c.order("trastuzumab-deruxtecan"), c.order("trastuzumab"))

    assert "order-combination" in topics(cards) and not _duplicates(cards)


def _active(drug_text: str, drug: str | None) -> Resource:
    """A running order of the record (status active), as the medicationRequests prefetch returns it."""
    order = order_named(drug_text, drug)
    return {**order, "status": "active", "authoredOn": c.ago(days=21)}


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
@pytest.mark.parametrize(
    ("active", "new", "names"),
    [
        (("Herceptin", "trastuzumab"), ("Ogivri", None), ("Herceptin", "Ogivri")),
        (("Phesgo", None), ("Herceptin", "trastuzumab"), ("Phesgo", "Herceptin")),
        (("Herceptin Hylecta", None), ("trastuzumab", "trastuzumab"), ("Hylecta", "trastuzumab")),
    ],
    ids=["originator active, biosimilar ordered", "Phesgo active, H ordered", "SC active, IV ordered"],
)
def test_a_draft_order_duplicating_an_active_order_warns(
    client: TestClient,
    templates: dict[str, str],
    hook: str,
    active: tuple[str, str | None],
    new: tuple[str, str | None],
    names: tuple[str, str],
) -> None:
    running = _active(*active)
    order = _order(new)
    call = select if hook == "order-select" else sign

    cards = call(client, templates, [*_ready(), running], order)

    (card,) = _duplicates(cards)
    assert (
        f"MedicationRequest/{running['id']}" in card["detail"] and f"MedicationRequest/{order['id']}" in card["detail"]
    )
    assert all(name in card["summary"] + card["detail"] for name in names)


def test_a_completed_order_is_not_a_duplicate(client: TestClient, templates: dict[str, str]) -> None:
    finished = {**_active("Herceptin", "trastuzumab"), "status": "completed"}

    cards = select(client, templates, [*_ready(), finished], _order(("Ogivri", None)))

    assert not _duplicates(cards)


def test_order_select_compares_the_selection_with_the_other_drafts(
    client: TestClient, templates: dict[str, str]
) -> None:
    from tests.utils import factories as f

    from .helpers import ORDER_SELECT, post

    selected, other = _order(("Ogivri", None)), _order(("Herceptin", "trastuzumab"))
    body: dict[str, Any] = f.hook_request(
        "order-select",
        prefetch=f.prefetch_for(templates, [c.patient(), *_ready()], "p1"),
        selections=[f"MedicationRequest/{selected['id']}"],
        draftOrders=f.draft_orders(selected, other),
    )

    cards = post(client, ORDER_SELECT, body)

    assert len(_duplicates(cards)) == 1


def test_each_product_keeps_its_own_biosimilar_card(client: TestClient, templates: dict[str, str]) -> None:
    """Herceptin and Ogivri signed together: each order's card names its own product and carries its product
    note; never one brand for both."""
    cards = sign(client, templates, _ready(), _order(("Herceptin", "trastuzumab")), _order(("Ogivri", None)))

    products = [card["summary"] for card in cards if "BIO6" in extension(card).get("rules", [])]
    assert len(products) == 2
    assert any("Herceptin" in s and "Ogivri" not in s for s in products)
    assert any("Ogivri" in s and "Herceptin" not in s for s in products)


def test_two_orders_of_one_product_share_one_card(client: TestClient, templates: dict[str, str]) -> None:
    a, b = _order(("Ogivri", None)), _order(("Ogivri", None))

    cards = sign(client, templates, _ready(), a, b)

    # One product note for the product; each order its own card.
    assert sum("BIO6" in extension(card).get("rules", []) for card in cards) == 1
    assert len(_duplicates(cards)) == 1
    assert all(any(order["id"] in card["detail"] for card in cards) for order in (a, b))


def test_many_duplicate_orders_make_one_card_not_one_per_pair(client: TestClient, templates: dict[str, str]) -> None:
    """200 trastuzumab orders under different names: one duplicate card listing them (not 19,900 pairs)."""
    orders = [order_named(f"Herceptin {i}", "trastuzumab") for i in range(200)]

    cards = sign(client, templates, _ready(), *orders)

    assert len(_duplicates(cards)) == 1
    assert len(cards) < 10
    assert "(+" in _duplicates(cards)[0]["summary"] + _duplicates(cards)[0]["detail"]  # the rest are counted
