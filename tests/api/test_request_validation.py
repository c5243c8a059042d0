"""Request validation: clear 400s naming the field, 404 for unknown services, tolerance of extensions."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.utils import factories as f


def _issues(response: Any) -> list[str]:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return [e for issue in body["issue"] for e in issue.get("expression", [])]


def _patient_view(**changes: Any) -> dict[str, Any]:
    body = f.hook_request("patient-view", prefetch={})
    body.update(changes)
    return body


def _without(body: dict[str, Any], *path: str) -> dict[str, Any]:
    node = body
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_without(_patient_view(), "hook"), "hook"),
        (_without(_patient_view(), "hookInstance"), "hookInstance"),
        (_patient_view(hookInstance="not-a-uuid"), "hookInstance"),
        (_without(_patient_view(), "context"), "context"),
        (_without(_patient_view(), "context", "patientId"), "context.patientId"),
        (_without(_patient_view(), "context", "userId"), "context.userId"),
        (_patient_view(context={"userId": "Practitioner/1", "patientId": "Patient/1"}), "context.patientId"),
        (_patient_view(context={"userId": "Organization/1", "patientId": "1"}), "context.userId"),
        # A trailing newline is not part of an id ($ in a regex would let it through).
        (_patient_view(context={"userId": "Practitioner/1", "patientId": "1\n"}), "context.patientId"),
        (_patient_view(context={"userId": "Practitioner/1\n", "patientId": "1"}), "context.userId"),
        (_patient_view(fhirServer="not a url"), "fhirServer"),
        (
            _patient_view(
                fhirAuthorization={
                    "access_token": "t",
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "scope": "s",
                    "subject": "c",
                }
            ),
            "fhirAuthorization",
        ),
        (
            _patient_view(
                fhirServer="https://fhir.example.org",
                fhirAuthorization={
                    "access_token": "t",
                    "token_type": "MAC",
                    "expires_in": 300,
                    "scope": "s",
                    "subject": "c",
                },
            ),
            "fhirAuthorization.token_type",
        ),
        (_patient_view(prefetch={"patient": {"id": "no-resource-type"}}), "prefetch"),
        (_patient_view(prefetch=["not", "an", "object"]), "prefetch"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_invalid_patient_view_request_names_the_field(client: TestClient, body: dict[str, Any], field: str) -> None:
    response = client.post("/cds-services/her2-patient-view", json=body)

    assert response.status_code == 400
    assert field in _issues(response)


CANONICAL = "6f1c2b9e-0a1b-4c2d-8e3f-a0b1c2d3e4f5"


@pytest.mark.parametrize(
    ("instance", "accepted"),
    [
        (CANONICAL, True),
        (CANONICAL.upper(), True),
        ("{" + CANONICAL + "}", True),
        ("urn:uuid:" + CANONICAL, True),
        (CANONICAL.replace("-", ""), True),  # uuid.UUID's spellings stay accepted
        (CANONICAL + "\n", False),
        (CANONICAL[:-1] + "g", False),
        (CANONICAL[:-1], False),
        ("", False),
    ],
)
def test_hook_instance_is_any_spelling_of_a_uuid(client: TestClient, instance: str, accepted: bool) -> None:
    response = client.post("/cds-services/her2-patient-view", json=_patient_view(hookInstance=instance))

    # Accepted, the call goes on (412: prefetch is empty and there is no fhirServer); refused, 400 names the field.
    assert response.status_code == (412 if accepted else 400)
    assert ("hookInstance" in _issues(response)) is not accepted


def _order_select(**context: Any) -> dict[str, Any]:
    base = {"selections": ["MedicationRequest/mr1"], "draftOrders": f.draft_orders(f.medication_request("mr1"))}
    base.update(context)
    return f.hook_request("order-select", prefetch={}, **{k: v for k, v in base.items() if v is not None})


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_order_select(selections=None), "context.selections"),
        (_order_select(selections=[]), "context.selections"),
        (_order_select(selections=["MedicationRequest/other"]), "context.selections"),
        (_order_select(draftOrders=None), "context.draftOrders"),
        (_order_select(draftOrders={"resourceType": "Patient", "id": "x"}), "context.draftOrders"),
        (
            _order_select(
                draftOrders={"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "MedicationRequest"}}]}
            ),
            "context.draftOrders",
        ),
    ],
    ids=[
        "no-selections",
        "empty-selections",
        "selection-not-in-draft",
        "no-draft-orders",
        "not-a-bundle",
        "entry-without-id",
    ],
)
def test_invalid_order_select_context_names_the_field(client: TestClient, body: dict[str, Any], field: str) -> None:
    response = client.post("/cds-services/her2-order-select", json=body)

    assert response.status_code == 400
    assert field in _issues(response)


def test_order_sign_requires_draft_orders(client: TestClient) -> None:
    response = client.post("/cds-services/her2-order-sign", json=f.hook_request("order-sign", prefetch={}))

    assert response.status_code == 400
    assert "context.draftOrders" in _issues(response)


@pytest.mark.parametrize("raw", [b"{not json", b"[]", b"\xff\xfe"], ids=["broken", "array", "binary"])
def test_body_that_is_not_a_json_object_is_400(client: TestClient, raw: bytes) -> None:
    response = client.post("/cds-services/her2-patient-view", content=raw, headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


def test_hook_that_does_not_match_the_service_is_400(client: TestClient) -> None:
    body = f.hook_request(
        "order-select",
        prefetch={},
        selections=["MedicationRequest/mr1"],
        draftOrders=f.draft_orders(f.medication_request("mr1")),
    )

    response = client.post("/cds-services/her2-patient-view", json=body)

    assert response.status_code == 400
    assert _issues(response) == ["hook"]
    assert "answers 'patient-view'" in response.json()["issue"][0]["diagnostics"]


def test_unknown_service_is_404(client: TestClient) -> None:
    response = client.post("/cds-services/nope", json=_patient_view())

    assert response.status_code == 404
    assert response.json()["issue"][0]["code"] == "not-found"


def test_extensions_and_unknown_fields_are_tolerated(client: TestClient, templates: dict[str, str]) -> None:
    body = f.hook_request("patient-view", prefetch=f.prefetch_for(templates, [f.patient()], "p1"))
    body["extension"] = {"com.example.tenant": {"site": "A"}}
    body["context"]["extension"] = {"com.example.ctx": {"x": 1}}
    body["context"]["encounterId"] = "enc-1"
    body["someFutureField"] = {"a": 1}

    response = client.post("/cds-services/her2-patient-view", json=body)

    assert response.status_code == 200
    assert response.json() == {"cards": []}


def test_patient_may_be_the_user_in_patient_view_only(client: TestClient, templates: dict[str, str]) -> None:
    body = f.hook_request("patient-view", prefetch=f.prefetch_for(templates, [f.patient()], "p1"))
    body["context"]["userId"] = "Patient/p1"
    assert client.post("/cds-services/her2-patient-view", json=body).status_code == 200

    order = f.hook_request("order-sign", prefetch={}, draftOrders=f.draft_orders(f.medication_request("mr1")))
    order["context"]["userId"] = "Patient/p1"
    assert client.post("/cds-services/her2-order-sign", json=order).status_code == 400
