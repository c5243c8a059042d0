"""Issue 7 item 5: an order the service cannot fully read is never silence. Only what the checks read is
validated (medication[x], subject/patient, status, intent); real clients' imperfect FHIR (the CDS Hooks
Sandbox's `category` object, DSTU2 MedicationOrder, drug codes missing from mappings/) still gets the
patient-level safety checks and a card saying what could not be read."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.utils import clinical as c
from tests.utils import factories as f

from . import records as r
from .helpers import ORDER_SELECT, ORDER_SIGN, Card, Resource, card_for, post, select, sign, topics

PREGNANT = [*r.de_novo_metastatic(), c.lvef(62, when=c.ago(days=10)), c.pregnant()]


def sandbox_order(order_id: str = "sandbox-1") -> Resource:
    """A MedicationRequest shaped as the CDS Hooks Sandbox's Rx View sends it: `category` is an object."""
    return {
        "resourceType": "MedicationRequest",
        "id": order_id,
        "status": "draft",
        "intent": "order",
        "category": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                    "code": "outpatient",
                }
            ]
        },
        "medicationCodeableConcept": {
            "text": "trastuzumab 150 MG Injection",
            "coding": [
                {"system": c.RXNORM, "code": "224905", "display": "trastuzumab"},
            ],
        },
        "subject": {"reference": "Patient/p1"},
        "authoredOn": c.ago(),
        "dosageInstruction": {"text": "8 mg/kg loading dose"},  # an object where a list belongs, too
        "dispenseRequest": {"numberOfRepeatsAllowed": "1"},
    }


def dstu2_order(order_id: str = "dstu2-1", *, patient: str = "Patient/p1") -> Resource:
    """A DSTU2 MedicationOrder: `patient` instead of `subject`, `dateWritten`, no `intent`."""
    return {
        "resourceType": "MedicationOrder",
        "id": order_id,
        "status": "draft",
        "dateWritten": c.ago(),
        "patient": {"reference": patient},
        "medicationCodeableConcept": {
            "coding": [{"system": c.RXNORM, "code": "224905", "display": "trastuzumab"}],
            "text": "Herceptin",
        },
    }


def _select_raw(client: TestClient, templates: dict[str, str], record: list[Resource], order: Resource) -> list[Card]:
    body = f.hook_request(
        "order-select",
        prefetch=f.prefetch_for(templates, [c.patient(), *record], "p1"),
        selections=[f"{order['resourceType']}/{order['id']}"],
        draftOrders=f.draft_orders(order),
    )
    return post(client, ORDER_SELECT, body)


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_sandbox_shaped_order_keeps_its_critical_pregnancy_card(
    client: TestClient, templates: dict[str, str], hook: str
) -> None:
    order = sandbox_order()
    cards = (
        select(client, templates, PREGNANT, order)
        if hook == "order-select"
        else sign(client, templates, PREGNANT, order)
    )

    assert card_for(cards, "S7")["indicator"] == "critical"
    assert "order-readable" not in topics(cards)  # nothing the checks read was odd
    assert "M1" in topics(cards)  # the fit (contraindicated now) is still assessed


def test_sandbox_shaped_order_in_the_sandbox_bundle_without_type(client: TestClient, templates: dict[str, str]) -> None:
    order = sandbox_order()
    body = f.hook_request(
        "order-select",
        prefetch=f.prefetch_for(templates, [c.patient(), *PREGNANT], "p1"),
        selections=[f"MedicationRequest/{order['id']}"],
        draftOrders=f.draft_orders(order, with_type=False),
    )

    cards = post(client, ORDER_SELECT, body)

    assert card_for(cards, "S7")["indicator"] == "critical"


@pytest.mark.parametrize("hook", ["order-select", "order-sign"])
def test_dstu2_medication_order_gets_the_checks_and_a_note(
    client: TestClient, templates: dict[str, str], hook: str
) -> None:
    order = dstu2_order()
    if hook == "order-select":
        cards = _select_raw(client, templates, PREGNANT, order)
    else:
        body = f.hook_request(
            "order-sign",
            prefetch=f.prefetch_for(templates, [c.patient(), *PREGNANT], "p1"),
            draftOrders=f.draft_orders(order),
        )
        cards = post(client, ORDER_SIGN, body)

    assert card_for(cards, "S7")["indicator"] == "critical"
    note = card_for(cards, "order-readable")  # a line on the order's own card
    assert "DSTU2" in note["summary"] + note["detail"] and "MedicationOrder/dstu2-1" in note["detail"]


def test_dstu2_order_for_another_patient_is_not_checked(client: TestClient, templates: dict[str, str]) -> None:
    cards = _select_raw(client, templates, PREGNANT, dstu2_order(patient="Patient/p2"))

    assert topics(cards) == ["order-readable"] and "patient" in cards[0]["summary"]


UNKNOWN_CODES = [
    ("unknown RxNorm SCD, English display", "9999991", "trastuzumab-xyz 150 MG Injection", None),
    ("unknown RxNorm SBD, brand in display", "9999992", "trastuzumab 420 MG Injection [Herzuma]", None),
    ("unknown local code, Chinese name", "LOCAL-42", "注射用曲妥珠单抗（新规格）", "http://hospital.example.cn/drug"),
    ("unknown code, text only names it", "9999993", None, None),
]


@pytest.mark.parametrize(("why", "code", "display", "system"), UNKNOWN_CODES, ids=[u[0] for u in UNKNOWN_CODES])
def test_an_unknown_code_named_as_anti_her2_gets_the_safety_checks(
    client: TestClient, templates: dict[str, str], why: str, code: str, display: str | None, system: str | None
) -> None:
    coding: dict[str, Any] = {"system": system or c.RXNORM, "code": code}
    if display:
        coding["display"] = display
    concept: dict[str, Any] = {"coding": [coding]}
    if display is None:
        concept["text"] = "Trastuzumab for injection (new pack)"
    order = c.order("trastuzumab", concept=concept)

    cards = select(client, templates, PREGNANT, order)

    assert card_for(cards, "S7")["indicator"] == "critical", why
    note = card_for(cards, "order-readable")  # a line on the order's own card, which the pregnancy makes critical
    assert note["indicator"] in ("warning", "critical") and code in note["summary"] + note["detail"]


def test_an_unknown_code_for_another_drug_stays_silent(client: TestClient, templates: dict[str, str]) -> None:
    concept = {"coding": [{"system": c.RXNORM, "code": "9999994", "display": "ondansetron 8 MG Oral Tablet"}]}

    assert select(client, templates, PREGNANT, c.order("trastuzumab", concept=concept)) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("medicationCodeableConcept", "trastuzumab"), ("medicationCodeableConcept", ["trastuzumab"])],
    ids=["string", "list"],
)
def test_an_unreadable_medication_is_reported(
    client: TestClient, templates: dict[str, str], field: str, value: Any
) -> None:
    order = c.order("trastuzumab")
    order[field] = value

    cards = select(client, templates, PREGNANT, order)

    card = card_for(cards, "order-readable")
    assert card["indicator"] == "warning" and field in card["detail"]


def test_an_order_without_medication_is_reported(client: TestClient, templates: dict[str, str]) -> None:
    order = c.order("trastuzumab")
    del order["medicationCodeableConcept"]

    cards = select(client, templates, PREGNANT, order)

    assert topics(cards) == ["order-readable"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("intent", 42), ("status", "not a code "), ("subject", "Patient/p1")],
    ids=["intent-number", "status-bad-code", "subject-string"],
)
def test_a_malformed_field_the_checks_read_still_gets_safety(
    client: TestClient, templates: dict[str, str], field: str, value: Any
) -> None:
    order = c.order("trastuzumab")
    order[field] = value

    cards = select(client, templates, PREGNANT, order)

    assert card_for(cards, "S7")["indicator"] == "critical"
    assert field in card_for(cards, "order-readable")["summary"]
    assert "M1" not in topics(cards)  # what the order is, is uncertain: no fit claimed


def test_an_unknown_medication_code_with_an_anti_her2_ingredient_is_checked(
    client: TestClient, templates: dict[str, str]
) -> None:
    """The order references a contained Medication whose code is unknown; its ingredient is trastuzumab."""
    order = c.order("trastuzumab")
    del order["medicationCodeableConcept"]
    order["contained"] = [
        {
            "resourceType": "Medication",
            "id": "med",
            "code": {"coding": [{"system": c.RXNORM, "code": "9999995", "display": "HLX-new 150 MG Injection"}]},
            "ingredient": [{"itemCodeableConcept": {"coding": [{"system": c.RXNORM, "code": "224905"}]}}],
        }
    ]
    order["medicationReference"] = {"reference": "#med"}

    cards = select(client, templates, PREGNANT, order)

    assert card_for(cards, "S7")["indicator"] == "critical"
    note = card_for(cards, "order-readable")
    assert "9999995" in note["summary"] + note["detail"]


@pytest.mark.parametrize(
    "concept",
    [{}, {"text": ""}, {"coding": "x"}, {"coding": [{}]}, {"coding": [{"system": c.RXNORM}]}, {"text": "\u200b"}],
    ids=["empty", "blank-text", "coding-string", "empty-coding", "system-only", "zero-width-text"],
)
def test_a_medication_concept_that_names_nothing_is_reported(
    client: TestClient, templates: dict[str, str], concept: dict[str, Any]
) -> None:
    """An object where the concept belongs, but no code or text to go by: said on a card, never an empty answer."""
    order = c.order("trastuzumab")
    order["medicationCodeableConcept"] = concept

    cards = select(client, templates, PREGNANT, order)

    assert card_for(cards, "order-readable")["indicator"] == "warning"
