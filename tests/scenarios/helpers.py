"""Scenario plumbing: post a small FHIR record through a hook, then read which knowledge rows the cards show."""

import json
import os
import re
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient

from cds_service.config import REPO_ROOT
from cds_service.hooks.response import HookResponse, dump
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
    # The renderer skips the models' validation (render.py): each answer must pass it in full, unchanged.
    assert dump(HookResponse.model_validate(result)) == result
    cards: list[Card] = result["cards"]
    _log_cards(service, lang or (headers or {}).get("Accept-Language") or "en", cards)
    return cards


def _log_cards(service: str, lang: str, cards: list[Card]) -> None:
    """With CARD_LOG set, every scenario answer is appended there (benchmarks/card_stats.py reads it)."""
    path = os.environ.get("CARD_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps({"service": service, "lang": lang, "cards": cards}, ensure_ascii=False) + "\n")


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
    """The card about a rule: its topic, else the card that shows the rule inside (one card per decision)."""
    found = [card for card in cards if topic(card) == code]
    found += [card for card in cards if code in extension(card).get("rules", [])]
    assert found, f"no card with topic {code}; topics: {topics(cards)}"
    return found[0]


def extension(card: Card) -> dict[str, Any]:
    """The card's machine-readable part: the knowledge rows it shows (CDS Hooks 2.0 card extension)."""
    found: dict[str, Any] = card.get("extension", {}).get("org.her2-cds.card", {})
    return found


def cited(card: Card) -> set[str]:
    """Knowledge rows a card quotes (text, level and sources shown in its detail)."""
    return set(extension(card).get("cited", []))


def also_matching(card: Card) -> list[str]:
    """Row ids listed as further options for this patient in a recommendation card."""
    listed: list[str] = extension(card).get("alsoMatching", [])
    return listed


def shown_rows(cards: list[Card]) -> set[str]:
    """Rows the clinician sees: card topics, and the further matching rows listed in the first recommendation card."""
    return set(topics(cards)) | {rule for card in cards for rule in extension(card).get("rules", [])}


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
