"""Scenario plumbing: post a small FHIR record through a hook, then read which knowledge rows the cards show."""

import re
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient

from cds_service.config import REPO_ROOT
from tests.utils import clinical as c
from tests.utils import factories as f
from tests.utils.conformance import assert_response_conforms

Resource = dict[str, Any]
Card = dict[str, Any]

PATIENT_VIEW = "her2-patient-view"
ORDER_SELECT = "her2-order-select"
ORDER_SIGN = "her2-order-sign"
CARDS_DIR = REPO_ROOT / "cards"
NOT_ROWS = {"sources.yaml", "definitions.yaml"}
_CHINESE = re.compile(r"[\u4e00-\u9fff]")
_CITED = re.compile(r"^\*\*([A-Z]+\d+) · ", re.MULTILINE)
_ALSO_MATCHING = ("Also matching for this patient", "该患者同样适用的其他推荐")
_LISTED = re.compile(r"^- ([A-Z]+\d+) · ")


# -- the knowledge base ----------------------------------------------------------------------------
def knowledge_rows(cards_dir: Path = CARDS_DIR) -> dict[str, str]:
    """Every row id of cards/*.yaml with its kind (sources.yaml and definitions.yaml hold no rows)."""
    rows: dict[str, str] = {}
    for path in sorted(cards_dir.glob("*.yaml")):
        if path.name in NOT_ROWS:
            continue
        for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["entries"]:
            rows[entry["id"]] = entry["kind"]
    return rows


KINDS = knowledge_rows()
RECOMMENDATIONS = frozenset(i for i, kind in KINDS.items() if kind == "recommendation")


# -- calling the service ---------------------------------------------------------------------------
def _record(resources: list[Resource]) -> list[Resource]:
    has_patient = any(r["resourceType"] == "Patient" for r in resources)
    return resources if has_patient else [c.patient(), *resources]


def post(
    client: TestClient,
    service: str,
    body: dict[str, Any],
    *,
    lang: str | None = None,
    headers: dict[str, str] | None = None,
) -> list[Card]:
    url = f"/cds-services/{service}" + (f"?lang={lang}" if lang else "")
    response = client.post(url, json=body, headers=headers or {})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    assert_response_conforms(result)
    cards: list[Card] = result["cards"]
    return cards


def view(client: TestClient, templates: dict[str, str], resources: list[Resource], **how: Any) -> list[Card]:
    """patient-view with a complete prefetch of `resources` (a Patient is added when missing)."""
    body = f.hook_request("patient-view", prefetch=f.prefetch_for(templates, _record(resources), "p1"))
    return post(client, PATIENT_VIEW, body, **how)


def select(
    client: TestClient, templates: dict[str, str], resources: list[Resource], order: Resource, **how: Any
) -> list[Card]:
    """order-select of one draft MedicationRequest."""
    body = f.hook_request(
        "order-select",
        prefetch=f.prefetch_for(templates, _record(resources), "p1"),
        selections=[f"MedicationRequest/{order['id']}"],
        draftOrders=f.draft_orders(order),
    )
    return post(client, ORDER_SELECT, body, **how)


def sign(
    client: TestClient, templates: dict[str, str], resources: list[Resource], *orders: Resource, **how: Any
) -> list[Card]:
    """order-sign of every draft order."""
    body = f.hook_request(
        "order-sign", prefetch=f.prefetch_for(templates, _record(resources), "p1"), draftOrders=f.draft_orders(*orders)
    )
    return post(client, ORDER_SIGN, body, **how)


# -- reading the cards -----------------------------------------------------------------------------
def topic(card: Card) -> str:
    code: str = card["source"]["topic"]["code"]
    return code


def topics(cards: list[Card]) -> list[str]:
    return [topic(card) for card in cards]


def card_for(cards: list[Card], code: str) -> Card:
    found = [card for card in cards if topic(card) == code]
    assert found, f"no card with topic {code}; topics: {topics(cards)}"
    return found[0]


def cited(card: Card) -> set[str]:
    """Knowledge rows quoted in a card's detail (each as a bold "**{id} · {title}**" block)."""
    return set(_CITED.findall(card.get("detail", "")))


def also_matching(card: Card) -> list[str]:
    """Row ids listed under "Also matching for this patient" in a recommendation card's detail."""
    listed: list[str] = []
    inside = False
    for line in card.get("detail", "").splitlines():
        if any(line.startswith(f"**{header}**") for header in _ALSO_MATCHING):
            inside = True
        elif inside:
            match = _LISTED.match(line)
            if not match:
                break
            listed.append(match.group(1))
    return listed


def shown_rows(cards: list[Card]) -> set[str]:
    """Rows the clinician sees: card topics, and the further matching rows listed in the first recommendation card."""
    shown = set(topics(cards))
    first = next((card for card in cards if topic(card) in RECOMMENDATIONS), None)
    if first is not None:
        shown |= set(also_matching(first))
    return shown


def recommendation_rows(cards: list[Card]) -> set[str]:
    return shown_rows(cards) & RECOMMENDATIONS


def has_chinese(value: str) -> bool:
    return bool(_CHINESE.search(value))


def suggested_codes(card: Card) -> list[str]:
    """Codes of the resources the card's suggestions would create."""
    return [
        coding["code"]
        for suggestion in card.get("suggestions", [])
        for action in suggestion.get("actions", [])
        if action["type"] == "create"
        for coding in action["resource"].get("code", {}).get("coding", [])
    ]


# -- builders tests/utils/clinical.py does not have ------------------------------------------------
def serum_her2(value: float = 18.0, *, when: str | None = None) -> Resource:
    """Serum HER2 extracellular domain (LOINC 32996-1): never a basis for HER2 decisions (T12)."""
    quantity = {"valueQuantity": {"value": value, "unit": "ng/mL"}}
    return c.observation("32996-1", quantity, when=when or c.ago(months=1), display="HER2 [Mass/volume] in Serum")


def ish(ratio: float, copies: float, *, ihc: str | None = None, when: str | None = None) -> list[Resource]:
    """Dual-probe ISH numbers (HER2/CEP17 ratio, HER2 copies per cell), with the same specimen's IHC if given."""
    day = when or c.ago(months=2)
    return [*c.ish_numbers(ratio, copies, when=day), *([c.her2_ihc(ihc, when=day)] if ihc else [])]


def pregnancy_condition() -> Resource:
    return c.condition("77386006", "Pregnancy", onset=c.ago(days=40))


def order_named(text: str, drug: str | None = None) -> Resource:
    """A draft order by product name (brand or Chinese name), with the ingredient's RxNorm code when given."""
    concept: dict[str, Any] = {"text": text}
    if drug:
        code, display = c.DRUG_CODES[drug]
        concept["coding"] = [{"system": c.RXNORM, "code": code, "display": display}]
    return c.order(drug or text, concept=concept)


def not_pregnant(*, when: str | None = None) -> Resource:
    return c.observation("82810-3", c.coded(c.SNOMED, "60001007", "Not pregnant"), when=when or c.ago(days=3))


def checked_before_start() -> list[Resource]:
    """What a careful team records before anti-HER2 therapy: a recent LVEF and today's pregnancy status."""
    return [c.lvef(62, when=c.ago(days=10)), not_pregnant()]
