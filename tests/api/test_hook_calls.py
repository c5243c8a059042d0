"""Hook calls with complete prefetch: response conformance and the core rules' cards."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.utils import factories as f
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


def test_jenny_m_her2_result_listed_with_its_basis(client: TestClient, templates: dict[str, str]) -> None:
    """mCODE Jenny M: the HER2 interpretation (LOINC 48676-1 = Negative) shows with date and source."""
    resources = f.bundle_resources(f.JENNY_BUNDLE)
    body = f.hook_request(
        "patient-view", patient_id=f.JENNY_ID, prefetch=f.prefetch_for(templates, resources, f.JENNY_ID)
    )

    cards = call(client, "her2-patient-view", body)["cards"]

    assert len(cards) == 1
    card = cards[0]
    assert card["indicator"] == "info"
    assert card["summary"] == "Latest HER2 result on file: Negative (2018-03-10)"
    assert "HER2 [Interpretation] in Tissue: **Negative**" in card["detail"]
    assert "`Observation/tumor-marker-test-her2-jenny-m`" in card["detail"]
    assert card["source"]["topic"]["code"] == "core-her2-results"


def test_breast_cancer_without_her2_result_asks_for_testing(client: TestClient, templates: dict[str, str]) -> None:
    resources = [f.patient(), f.breast_cancer()]
    body = f.hook_request("patient-view", prefetch=f.prefetch_for(templates, resources, "p1"))

    (card,) = call(client, "her2-patient-view", body)["cards"]

    assert card["indicator"] == "warning"
    assert "no HER2 result" in card["summary"]
    assert card["source"]["url"] == "https://doi.org/10.21037/tbcr-25-34"
    assert card["selectionBehavior"] == "at-most-one"
    (action,) = card["suggestions"][0]["actions"]
    assert action["type"] == "create"
    assert action["resource"]["resourceType"] == "ServiceRequest"
    assert action["resource"]["code"]["coding"][0]["code"] == HER2_IHC
    assert action["resource"]["subject"] == {"reference": "Patient/p1"}
    assert {r["display"] for r in card["overrideReasons"]} >= {"HER2 test already ordered"}


def test_chart_without_breast_cancer_gets_no_cards(client: TestClient, templates: dict[str, str]) -> None:
    body = f.hook_request("patient-view", prefetch=f.prefetch_for(templates, [f.patient()], "p1"))

    assert call(client, "her2-patient-view", body) == {"cards": []}  # @77


def test_entered_in_error_her2_result_is_not_used(client: TestClient, templates: dict[str, str]) -> None:
    wrong = f.observation("o1", HER2_IHC, value=f.coded(f.LOINC, "LA11843-2", "3+"))
    wrong["status"] = "entered-in-error"
    body = f.hook_request(
        "patient-view", prefetch=f.prefetch_for(templates, [f.patient(), f.breast_cancer(), wrong], "p1")
    )

    (card,) = call(client, "her2-patient-view", body)["cards"]

    assert card["indicator"] == "warning" and "no HER2 result" in card["summary"]


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

    (card,) = call(client, "her2-order-select", body)["cards"]

    assert card["indicator"] == "warning"
    assert card["summary"].endswith("ordered but no HER2 result on file")
    assert "`MedicationRequest/mr1`" in card["detail"]
    assert card["source"]["topic"]["code"] == "core-order-her2-missing"


def test_anti_her2_order_with_her2_result_lists_it(client: TestClient, templates: dict[str, str]) -> None:
    her2 = f.observation("o1", HER2_IHC, value=f.coded(f.LOINC, "LA11843-2", "3+"), date="2025-01-15")
    body = select(templates, f.medication_request("mr1"), record=[her2])
    del body["context"]["draftOrders"]["type"]  # the Sandbox sends draftOrders without Bundle.type

    (card,) = call(client, "her2-order-select", body)["cards"]

    assert card["indicator"] == "info"
    assert card["summary"] == "Trastuzumab order: latest HER2 result: 3+ (2025-01-15)"
    assert "**3+**" in card["detail"] and "`Observation/o1`" in card["detail"]


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

    assert sorted(c["summary"].split(" ")[0] for c in cards) == ["Pertuzumab", "Trastuzumab"]


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

    (card,) = call(client, "her2-order-select", body)["cards"]

    assert card["summary"].startswith("Trastuzumab deruxtecan ordered")


def test_invalid_anti_her2_order_is_reported_not_guessed(client: TestClient, templates: dict[str, str]) -> None:
    order = f.medication_request("mr1")
    order["intent"] = 42  # not a FHIR code
    body = select(templates, order)

    (card,) = call(client, "her2-order-select", body)["cards"]

    assert card["indicator"] == "warning" and "could not be checked" in card["summary"]
    assert "`intent`" in card["detail"]


def test_cards_keep_chinese_text_readable(client: TestClient, templates: dict[str, str]) -> None:
    body = select(templates, f.medication_request("mr1", code=None, text="注射用曲妥珠单抗"))

    response = client.post("/cds-services/her2-order-select", json=body)

    assert response.headers["content-type"] == "application/json"
    assert response.json()["cards"][0]["summary"].startswith("Trastuzumab")
