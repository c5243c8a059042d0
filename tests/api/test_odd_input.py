"""Odd but parseable data never turns into a 500: it is ignored, reported on a card, or refused with 4xx."""

import logging
from typing import Any

import pytest
import respx
from fastapi.testclient import TestClient

from cds_service.app import create_app
from cds_service.clinical import engine
from cds_service.config import Settings
from tests.utils import factories as f
from tests.utils.cards import by_topic
from tests.utils.conformance import assert_response_conforms

FHIR = "https://fhir.example.org/r4"
HER2_IHC = {"system": f.LOINC, "code": "85319-2"}


def _her2(**odd: Any) -> dict[str, Any]:
    return {**f.observation("odd", "85319-2", value=f.coded(f.LOINC, "LA11843-2", "3+")), **odd}


ODD_RECORDS = {
    "search-is-a-string": {"entry": [{"resource": f.breast_cancer(), "search": "match"}]},
    "entry-is-a-string": {"entry": ["not an entry", {"resource": f.breast_cancer()}]},
    "entry-is-an-object": {"entry": {"resource": f.breast_cancer()}},
    "coding-system-is-a-list": {
        "entry": [{"resource": _her2(code={"coding": [{"system": ["x"], "code": "85319-2"}]})}]
    },
    "coding-is-an-object": {"entry": [{"resource": _her2(code={"coding": HER2_IHC})}]},
    "coding-items-are-strings": {"entry": [{"resource": _her2(code={"coding": ["85319-2"]})}]},
    "code-is-a-string": {"entry": [{"resource": _her2(code="85319-2")}]},
    "status-is-a-list": {"entry": [{"resource": _her2(status=["final"])}]},
    "value-ratio-parts-are-strings": {"entry": [{"resource": _her2(valueRatio={"numerator": "2", "denominator": 1})}]},
    "verification-status-is-a-string": {
        "entry": [{"resource": {**f.breast_cancer(), "verificationStatus": "confirmed"}}]
    },
    "verification-coding-holds-strings": {
        "entry": [{"resource": {**f.breast_cancer(), "verificationStatus": {"coding": ["refuted"]}}}]
    },
}


@pytest.mark.parametrize("odd", ODD_RECORDS.values(), ids=ODD_RECORDS.keys())
def test_odd_record_content_is_read_without_error(client: TestClient, templates: dict[str, str], odd: Any) -> None:
    prefetch = f.prefetch_for(templates, [f.patient()], "p1")
    prefetch["biomarkers"] = prefetch["conditions"] = {"resourceType": "Bundle", "type": "searchset", **odd}

    response = client.post("/cds-services/her2-patient-view", json=f.hook_request("patient-view", prefetch=prefetch))

    assert response.status_code == 200, response.text
    assert_response_conforms(response.json())


ODD_ORDERS = {
    "medication-reference-is-a-string": {"medicationReference": "Medication/x"},
    "contained-holds-strings": {"medicationReference": {"reference": "#m"}, "contained": ["x"]},
    "medication-concept-is-a-list": {"medicationCodeableConcept": [{"text": "trastuzumab"}]},
    "status-is-an-object": {"status": {"code": "draft"}, "medicationCodeableConcept": {"text": "trastuzumab"}},
}


@pytest.mark.parametrize("odd", ODD_ORDERS.values(), ids=ODD_ORDERS.keys())
def test_odd_orders_are_answered_not_crashed_on(client: TestClient, templates: dict[str, str], odd: Any) -> None:
    order = {"resourceType": "MedicationRequest", "id": "mr1", "intent": "order", **odd}
    body = f.hook_request(
        "order-sign", prefetch=f.prefetch_for(templates, [f.patient()], "p1"), draftOrders=f.draft_orders(order)
    )

    response = client.post("/cds-services/her2-order-sign", json=body)

    assert response.status_code == 200, response.text
    assert_response_conforms(response.json())


def test_refuted_breast_cancer_gets_no_testing_card(client: TestClient, templates: dict[str, str]) -> None:
    refuted = {**f.breast_cancer(), "verificationStatus": {"coding": [{"code": "unconfirmed"}, {"code": "refuted"}]}}
    body = f.hook_request("patient-view", prefetch=f.prefetch_for(templates, [f.patient(), refuted], "p1"))

    assert client.post("/cds-services/her2-patient-view", json=body).json() == {"cards": []}


def test_deeply_nested_json_is_400(client: TestClient) -> None:
    raw = b'{"a":' * 100_000 + b"1" + b"}" * 100_000

    response = client.post("/cds-services/her2-patient-view", content=raw)

    assert response.status_code == 400


def test_request_over_the_size_limit_is_413(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"max_request_bytes": 2048}))) as small:
        body = f.hook_request("patient-view", prefetch={"patient": {"resourceType": "Patient", "text": "x" * 4096}})
        response = small.post("/cds-services/her2-patient-view", json=body)

    assert response.status_code == 413
    assert response.json()["issue"][0]["code"] == "too-costly"


def test_many_selections_are_checked_in_one_pass(settings: Settings, templates: dict[str, str]) -> None:
    """Linear in the number of orders (the cap on draft orders is raised here: see tests/api/test_bounds.py)."""
    orders = [f.medication_request(f"mr{i}", code="56946", text="paclitaxel") for i in range(3000)]
    body = f.hook_request(
        "order-select",
        prefetch=f.prefetch_for(templates, [f.patient()], "p1"),
        selections=[f"MedicationRequest/mr{i}" for i in range(3000)],
        draftOrders=f.draft_orders(*orders),
    )

    with TestClient(create_app(settings.model_copy(update={"max_draft_orders": 5000}))) as client:
        assert client.post("/cds-services/her2-order-select", json=body).json() == {"cards": []}


def test_internal_error_is_a_bare_500_with_cors_and_no_message_in_the_log(
    settings: Settings, templates: dict[str, str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: Any) -> list[Any]:
        raise ValueError("patient Jane Doe has HER2 3+")

    monkeypatch.setattr(engine, "patient_view_findings", broken)
    caplog.set_level(logging.DEBUG)
    body = f.hook_request("patient-view", prefetch=f.prefetch_for(templates, [f.patient()], "p1"))

    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        response = client.post(
            "/cds-services/her2-patient-view", json=body, headers={"Origin": "https://ehr.example.org"}
        )

    assert response.status_code == 500
    assert response.json()["issue"] == [{"severity": "error", "code": "exception", "diagnostics": "internal error"}]
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["x-request-id"] == body["hookInstance"]  # the 500 is named like the call's log lines
    assert "POST /cds-services/her2-patient-view 500 " in caplog.text  # and has its access log line
    assert "ValueError" in caplog.text and "broken" in caplog.text
    assert "Jane Doe" not in caplog.text and "3+" not in caplog.text


class TestOrdersNamingAMedicationByReference:
    """US Core allows a MedicationRequest to point at a separate Medication resource."""

    @staticmethod
    def _body(templates: dict[str, str], reference: dict[str, str], fhir_server: str | None = FHIR) -> dict[str, Any]:
        order = f.medication_request("mr1")
        del order["medicationCodeableConcept"]
        order["medicationReference"] = reference
        return f.hook_request(
            "order-select",
            prefetch=f.prefetch_for(templates, [f.patient()], "p1"),
            fhir_server=fhir_server,
            selections=["MedicationRequest/mr1"],
            draftOrders=f.draft_orders(order),
        )

    def test_the_medication_is_fetched_from_the_fhir_server(
        self, client: TestClient, templates: dict[str, str], respx_mock: respx.MockRouter
    ) -> None:
        medication = {
            "resourceType": "Medication",
            "id": "eAbc",
            "code": {"coding": [{"system": f.RXNORM, "code": "224905"}]},
        }
        route = respx_mock.get(f"{FHIR}/Medication/eAbc").respond(json=medication)

        response = client.post(
            "/cds-services/her2-order-select", json=self._body(templates, {"reference": "Medication/eAbc"})
        )

        assert route.call_count == 1
        card = by_topic(response.json()["cards"], "order-her2-unsettled")
        assert card["summary"] == "trastuzumab ordered, but HER2 status unknown: confirm HER2 first"

    def test_its_display_is_enough_without_a_fetch(
        self, client: TestClient, templates: dict[str, str], respx_mock: respx.MockRouter
    ) -> None:
        reference = {"reference": "Medication/eAbc", "display": "trastuzumab-anns 150 mg IV solution"}

        cards = client.post("/cds-services/her2-order-select", json=self._body(templates, reference)).json()["cards"]

        assert respx_mock.calls.call_count == 0
        card = by_topic(cards, "order-her2-unsettled")
        # trastuzumab-anns is Kanjinti; no product note on an order that should wait for HER2
        assert card["summary"] == "Kanjinti (trastuzumab) ordered, but HER2 status unknown: confirm HER2 first"
        assert "BIO6" not in card["extension"]["org.her2-cds.card"]["rules"]

    @pytest.mark.parametrize("fhir_server", [None, FHIR], ids=["no-fhir-server", "not-found"])
    def test_an_unreadable_medication_is_said_not_guessed(
        self, client: TestClient, templates: dict[str, str], respx_mock: respx.MockRouter, fhir_server: str | None
    ) -> None:
        respx_mock.get(f"{FHIR}/Medication/eAbc").respond(404, json={"resourceType": "OperationOutcome", "issue": []})
        body = self._body(templates, {"reference": "Medication/eAbc"}, fhir_server)

        response = client.post("/cds-services/her2-order-select", json=body)

        assert response.status_code == 200
        (card,) = response.json()["cards"]
        assert card["indicator"] == "warning"
        assert card["summary"] == "Ordered medication could not be identified: HER2 checks not applied"
        assert "`Medication/eAbc`" in card["detail"]


def test_order_sign_accepts_draft_orders_without_ids(client: TestClient, templates: dict[str, str]) -> None:
    order = f.medication_request("x")
    del order["id"]
    body = f.hook_request(
        "order-sign", prefetch=f.prefetch_for(templates, [f.patient()], "p1"), draftOrders=f.draft_orders(order)
    )

    card = by_topic(client.post("/cds-services/her2-order-sign", json=body).json()["cards"], "order-her2-unsettled")

    assert card["summary"] == "trastuzumab ordered, but HER2 status unknown: confirm HER2 first"
    assert "`MedicationRequest/?`" in card["detail"]
