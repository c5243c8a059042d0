"""Hook calls with complete prefetch: response conformance, and the cards of the main paths."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Route

from tests.utils import factories as f
from tests.utils.cards import by_topic, topics
from tests.utils.conformance import assert_response_conforms

HER2_IHC = "85319-2"


def call(client: TestClient, service_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/cds-services/{service_id}", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    assert_response_conforms(result)
    return result


def select(
    templates: dict[str, str], *orders: dict[str, Any], record: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """An order-select call selecting the first order, with a complete prefetch of `record`."""
    return f.hook_request(
        "order-select",
        prefetch=f.prefetch_for(templates, [f.patient(), *(record or [])], "p1"),
        selections=[f"MedicationRequest/{orders[0]['id']}"],
        draftOrders=f.draft_orders(*orders),
    )


def test_jenny_m_is_her2_negative_hr_positive_with_its_basis(client: TestClient, templates: dict[str, str]) -> None:
    """mCODE Jenny M: HER2 interpretation 48676-1 = Negative, ER positive; IHC score not recorded."""
    resources = f.bundle_resources(f.JENNY_BUNDLE)
    body = f.hook_request(
        "patient-view", patient_id=f.JENNY_ID, prefetch=f.prefetch_for(templates, resources, f.JENNY_ID)
    )

    cards = call(client, "her2-patient-view", body)["cards"]

    card = cards[0]
    assert card["indicator"] == "info"
    assert card["summary"] == "HER2-negative, IHC score not recorded (2018-03-10) · HR-positive · early"
    assert "HER2 [Interpretation] in Tissue: Negative" in card["detail"]
    assert "`Observation/tumor-marker-test-her2-jenny-m`" in card["detail"]
    assert "`Observation/tumor-marker-test-er-jenny-m`" in card["detail"]
    # the Condition's stage summary (IIIC) disagrees with the stage group Observations (IIB): both shown
    assert "Other stage record (disagrees): **IIIC**" in card["detail"]
    assert card["source"]["topic"]["code"] == "her2-status"
    assert not any(t[0] in "NAMBRL" and t[1:].isdigit() for t in topics(cards))  # no HER2-directed options
    assert by_topic(cards, "stage-conflict")["summary"] == "Stage records disagree (IIB vs IIIC): check the setting"


def test_breast_cancer_without_her2_result_asks_for_testing(client: TestClient, templates: dict[str, str]) -> None:
    resources = [f.patient(), f.breast_cancer()]
    body = f.hook_request("patient-view", prefetch=f.prefetch_for(templates, resources, "p1"))

    cards = call(client, "her2-patient-view", body)["cards"]

    assert topics(cards) == ["her2-missing"]  # the status and its gap are one card, led by the action
    card = by_topic(cards, "her2-missing")
    assert card["indicator"] == "warning" and "HER2 status unknown" in card["detail"]
    assert "without a recognised HER2 result" in card["summary"]
    assert card["source"]["url"] == "https://doi.org/10.21037/tbcr-25-34"
    assert card["selectionBehavior"] == "at-most-one"
    (action,) = card["suggestions"][0]["actions"]
    assert action["type"] == "create"
    assert action["resource"]["resourceType"] == "ServiceRequest"
    assert action["resource"]["code"]["coding"][0]["code"] == HER2_IHC
    assert action["resource"]["subject"] == {"reference": "Patient/p1"}
    assert {r["display"] for r in card["overrideReasons"]} >= {"Test already ordered"}


def test_chart_without_breast_cancer_gets_no_cards(client: TestClient, templates: dict[str, str]) -> None:
    body = f.hook_request("patient-view", prefetch=f.prefetch_for(templates, [f.patient()], "p1"))

    assert call(client, "her2-patient-view", body) == {"cards": []}


def test_entered_in_error_her2_result_is_not_used(client: TestClient, templates: dict[str, str]) -> None:
    wrong = f.observation("o1", HER2_IHC, value=f.coded(f.LOINC, "LA11843-2", "3+"))
    wrong["status"] = "entered-in-error"
    body = f.hook_request(
        "patient-view", prefetch=f.prefetch_for(templates, [f.patient(), f.breast_cancer(), wrong], "p1")
    )

    cards = call(client, "her2-patient-view", body)["cards"]

    assert topics(cards) == ["her2-missing"]
    assert "HER2 status unknown" in cards[0]["detail"]


@pytest.mark.parametrize(
    "order",
    [
        f.medication_request("mr1", code="224905", text="Herceptin"),
        f.medication_request("mr1", code=None, text="注射用曲妥珠单抗"),
        f.medication_request("mr1", code=None, text="Pyrotinib maleate tablets"),
        f.medication_request("mr1", code="1371041", text="ado-trastuzumab emtansine"),
    ],
    ids=["rxnorm-code", "chinese-name", "name-without-code", "t-dm1"],
)
def test_anti_her2_order_without_her2_result_warns(
    client: TestClient, templates: dict[str, str], order: dict[str, Any]
) -> None:
    body = select(templates, order)

    cards = call(client, "her2-order-select", body)["cards"]

    card = by_topic(cards, "order-her2-unsettled")
    assert card["indicator"] == "warning"
    assert "HER2 status unknown: confirm HER2 first" in card["summary"]
    assert "`MedicationRequest/mr1`" in card["detail"]
    assert card["suggestions"][0]["actions"][0]["resource"]["code"]["coding"][0]["code"] == HER2_IHC
    if "yrotinib" not in str(order):  # LVEF before antibodies and ADCs (S1), not before a TKI
        assert by_topic(cards, "S1")["indicator"] == "warning"


def test_anti_her2_order_with_her2_positive_result_shows_the_basis(
    client: TestClient, templates: dict[str, str]
) -> None:
    her2 = f.observation("o1", HER2_IHC, value=f.coded(f.LOINC, "LA11843-2", "3+"), date="2025-01-15")
    body = select(templates, f.medication_request("mr1"), record=[her2])
    del body["context"]["draftOrders"]["type"]  # the Sandbox sends draftOrders without Bundle.type

    cards = call(client, "her2-order-select", body)["cards"]

    assert "order-her2-unsettled" not in topics(cards) and "order-her2-mismatch" not in topics(cards)
    card = by_topic(cards, "order-line-unknown")  # no stage on record: the fit cannot be checked
    assert card["summary"] == "trastuzumab: stage not recorded, consensus fit not checked"
    assert "**HER2-positive**" in card["detail"] and "`Observation/o1`" in card["detail"]


def test_only_selected_orders_are_checked(client: TestClient, templates: dict[str, str]) -> None:
    body = select(
        templates, f.medication_request("paclitaxel", code="56946", text="paclitaxel"), f.medication_request("mr1")
    )

    assert call(client, "her2-order-select", body) == {"cards": []}


def test_order_sign_checks_every_draft_order(client: TestClient, templates: dict[str, str]) -> None:
    body = f.hook_request(
        "order-sign",
        prefetch=f.prefetch_for(templates, [f.patient()], "p1"),
        draftOrders=f.draft_orders(
            f.medication_request("a", code="56946", text="paclitaxel"),
            f.medication_request("b", code="1298944", text="pertuzumab"),
            f.medication_request("c", code="224905", text="trastuzumab"),
        ),
    )

    cards = call(client, "her2-order-sign", body)["cards"]

    checked = [c for c in cards if c["source"]["topic"]["code"] == "order-her2-unsettled"]
    assert sorted(c["summary"].split(" ")[0] for c in checked) == ["pertuzumab", "trastuzumab"]
    assert not any("paclitaxel" in c["summary"] for c in cards)


def test_medication_reference_to_contained_medication_is_resolved(
    client: TestClient, templates: dict[str, str]
) -> None:
    order = f.medication_request("mr1")
    del order["medicationCodeableConcept"]
    order["contained"] = [
        {"resourceType": "Medication", "id": "med", "code": {"coding": [{"system": f.RXNORM, "code": "2267582"}]}}
    ]
    order["medicationReference"] = {"reference": "#med"}
    body = select(templates, order)

    cards = call(client, "her2-order-select", body)["cards"]

    assert by_topic(cards, "order-her2-unsettled")["summary"].startswith("trastuzumab deruxtecan (T-DXd) ordered")
    rules = by_topic(cards, "order-her2-unsettled")["extension"]["org.her2-cds.card"]["rules"]
    assert "S6" in rules  # T-DXd: ILD monitoring, on the order's card


def test_invalid_anti_her2_order_is_reported_not_guessed(client: TestClient, templates: dict[str, str]) -> None:
    order = f.medication_request("mr1")
    order["intent"] = 42  # not a FHIR code
    body = select(templates, order)

    cards = call(client, "her2-order-select", body)["cards"]

    card = by_topic(cards, "order-readable")  # issue 7: malformed, yet the safety checks still run
    assert card["indicator"] == "warning" and "intent" in card["summary"]
    assert "S1" in topics(cards) and "order-line-unknown" not in topics(cards)


def test_cards_keep_chinese_text_readable(client: TestClient, templates: dict[str, str]) -> None:
    body = select(templates, f.medication_request("mr1", code=None, text="注射用曲妥珠单抗"))

    response = client.post("/cds-services/her2-order-select", json=body, headers={"Accept-Language": "zh-CN"})

    assert response.headers["content-type"] == "application/json"
    assert "曲妥珠单抗" in response.text  # UTF-8, not \\u escapes
    assert by_topic(response.json()["cards"], "order-her2-unsettled")["summary"].startswith("已开曲妥珠单抗")


def test_hook_routes_are_the_apps_own_and_tried_first(client: TestClient) -> None:
    # Not an included router's: FastAPI matches those through one more layer on every request (app.py). Plain
    # Starlette routes: FastAPI's handler would solve dependencies the route does not have on every call.
    first = client.app.routes[:2]  # type: ignore[attr-defined]
    assert [route.path for route in first] == [
        "/cds-services/{service_id}",
        "/{lang:cds_language}/cds-services/{service_id}",
    ]
    assert all(type(route) is Route and route.methods == {"POST"} for route in first)
