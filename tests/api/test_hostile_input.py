"""No 5xx from any input (issue 8): each input that gave a 500 now gets a clear 4xx, 412 or a card."""

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from fastapi.testclient import TestClient

from cds_service.app import create_app
from cds_service.config import Settings
from tests.utils import factories as f
from tests.utils.issued import issue

FHIR = "https://fhir.example.org/r4"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app for the module: these tests only read its answers."""
    database = tmp_path_factory.mktemp("hostile") / "feedback.sqlite3"
    configured = Settings(
        database_url=f"sqlite:///{database}", hook_deadline_seconds=2.0, fhir_request_timeout_seconds=1.0
    )
    with TestClient(create_app(configured)) as test_client:
        issue(test_client, uuids=[CARD, OTHER_CARD])  # feedback is only taken for cards the service issued
        yield test_client


@pytest.fixture(scope="module")
def templates(client: TestClient) -> dict[str, str]:
    return dict(client.app.state.catalog["her2-patient-view"].prefetch)  # type: ignore[attr-defined]


CARD = "8b2f6c1e-0d6f-4a57-9f7e-3c1d2b4a5e6f"
OTHER_CARD = "0f0e0d0c-0b0a-4909-8807-060504030201"


def _feedback(**item: Any) -> dict[str, Any]:
    base = {"card": CARD, "outcome": "overridden", "outcomeTimestamp": "2025-06-01T10:00:00Z"}
    return {"feedback": [{**base, "overrideReason": {"reason": {"code": "mdt"}}, **item}]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_feedback(outcomeTimestamp="0001-01-01T00:00:00+14:00"), "outcomeTimestamp"),  # OverflowError before
        (_feedback(outcomeTimestamp="9999-12-31T23:59:59-14:00"), "outcomeTimestamp"),
        (_feedback(outcomeTimestamp="10000-01-01T00:00:00Z"), "outcomeTimestamp"),
        ({"feedback": _feedback()["feedback"] * 101}, "feedback"),  # 50,000 rows were accepted before
        (_feedback(overrideReason={"userComment": "x" * 4001}), "userComment"),  # 10 MB comments before
        (_feedback(overrideReason={"reason": {"code": "c" * 257}}), "code"),
        (_feedback(outcome="accepted", acceptedSuggestions=[{"id": "s"}] * 21), "acceptedSuggestions"),
    ],
    ids=["min-date", "max-date", "year-10000", "101-items", "long-comment", "long-code", "21-suggestions"],
)
def test_feedback_out_of_bounds_is_400_naming_the_field(client: TestClient, body: dict[str, Any], field: str) -> None:
    response = client.post("/cds-services/her2-patient-view/feedback", json=body)

    assert response.status_code == 400
    assert any(field in i.get("expression", [""])[0] for i in response.json()["issue"])


def test_feedback_within_bounds_is_stored(client: TestClient) -> None:
    body = {"feedback": _feedback(overrideReason={"userComment": "x" * 4000})["feedback"] * 100}

    assert client.post("/cds-services/her2-patient-view/feedback", json=body).json() == {"stored": 100}


@pytest.mark.parametrize(
    "token",
    ["tökén-ü", "token\u00a0with-nbsp", "line\r\nX-Injected: 1", "with space", "\ud800", "x" * 16385],
    ids=["non-ascii", "nbsp", "crlf", "space", "surrogate", "too-long"],
)
def test_access_token_that_cannot_be_a_header_is_400_and_never_echoed_or_logged(
    client: TestClient, token: str, respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    body = f.hook_request("patient-view", fhir_server=FHIR, token=token)
    raw = json.dumps(body).encode()  # ensure_ascii: the surrogate travels as \ud800, as a client would send it
    caplog.set_level(logging.DEBUG)

    response = client.post("/cds-services/her2-patient-view", content=raw, headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert respx_mock.calls.call_count == 0
    assert token[:8] not in response.text.replace("access_token", "")
    assert all(token[:8] not in r.getMessage() for r in caplog.records)


def _with(resource: dict[str, Any], templates: dict[str, str]) -> dict[str, Any]:
    return f.prefetch_for(templates, [f.patient(), f.breast_cancer(), resource], "p1")


SURROGATE_ID = {**f.observation("x", "85319-2"), "id": "\ud800"}
SURROGATE_CODE = f.observation("x", "85319-2", value={"valueCodeableConcept": {"coding": [{"code": "\udfff"}]}})


@pytest.mark.parametrize("resource", [SURROGATE_ID, SURROGATE_CODE], ids=["resource-id", "code"])
def test_lone_surrogate_in_the_request_is_400(
    client: TestClient, templates: dict[str, str], resource: dict[str, Any]
) -> None:
    body = f.hook_request("patient-view", prefetch=_with(resource, templates))

    response = client.post(
        "/cds-services/her2-patient-view",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert "surrogate" in response.json()["issue"][0]["diagnostics"]


def test_a_surrogate_pair_is_ordinary_text(client: TestClient, templates: dict[str, str]) -> None:
    resource = {**f.observation("x", "85319-2"), "note": [{"text": "\U0001f600"}]}
    body = f.hook_request("patient-view", prefetch=_with(resource, templates))

    response = client.post(
        "/cds-services/her2-patient-view",
        content=json.dumps(body).encode(),  # 😀 escaped as \ud83d\ude00
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 200


@pytest.mark.parametrize("depth", [65, 100_000])
def test_deeply_nested_request_is_400(client: TestClient, depth: int) -> None:
    body = b'{"hook": "patient-view", "x": ' + b"[" * depth + b"]" * depth + b"}"

    response = client.post("/cds-services/her2-patient-view", content=body)

    assert response.status_code == 400


@pytest.mark.parametrize(
    "answer",
    [
        b'{"resourceType": "Bundle", "entry": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",  # RecursionError before
        b'{"resourceType": "Bundle", "entry": ' + b"[" * 70 + b"]" * 70 + b"}",
        b'{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Condition", "id": "\\ud800"}}]}',
        b'{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Condition", "id": "\xed\xa0\x80"}}]}',
    ],
    ids=["100000-deep", "70-deep", "escaped-surrogate", "raw-surrogate-bytes"],
)
def test_hostile_fhir_answers_are_412_not_500(
    client: TestClient, templates: dict[str, str], respx_mock: respx.MockRouter, answer: bytes
) -> None:
    prefetch = f.prefetch_for(templates, [f.patient(), f.breast_cancer()], "p1")
    del prefetch["conditions"]
    respx_mock.get(f"{FHIR}/Condition").respond(content=answer, headers={"Content-Type": "application/fhir+json"})

    response = client.post(
        "/cds-services/her2-patient-view", json=f.hook_request("patient-view", prefetch=prefetch, fhir_server=FHIR)
    )

    assert response.status_code == 412
    assert response.json()["issue"][0]["expression"] == ["prefetch.conditions"]


def test_transport_errors_of_every_kind_are_412(
    client: TestClient, templates: dict[str, str], respx_mock: respx.MockRouter
) -> None:
    prefetch = f.prefetch_for(templates, [f.patient(), f.breast_cancer()], "p1")
    del prefetch["conditions"]
    respx_mock.get(f"{FHIR}/Condition").mock(side_effect=httpx.RemoteProtocolError("peer closed"))

    response = client.post(
        "/cds-services/her2-patient-view", json=f.hook_request("patient-view", prefetch=prefetch, fhir_server=FHIR)
    )

    assert response.status_code == 412


def test_unknown_fields_in_an_override_reason_are_not_stored(client: TestClient) -> None:
    card = OTHER_CARD
    reason = {"reason": {"code": "mdt", "padding": "x" * 100_000}, "userComment": "ok", "more": "y" * 100_000}
    body = {"feedback": [{"card": card, "outcome": "overridden", "outcomeTimestamp": "2025-06-01T10:00:00Z",
                          "overrideReason": reason}]}  # fmt: skip

    assert client.post("/cds-services/her2-patient-view/feedback", json=body).status_code == 200
    (stored,) = client.app.state.feedback_store.query(card_uuid=card)  # type: ignore[attr-defined]
    assert stored.override_reason == {"reason": {"code": "mdt"}, "userComment": "ok"}


def test_a_nul_character_in_feedback_is_400_not_a_database_error(client: TestClient) -> None:
    """PostgreSQL cannot store U+0000: it is refused with the other unencodable text, before any store."""
    body = {
        "feedback": [
            {"card": "a\u0000b", "outcome": "accepted", "outcomeTimestamp": "2025-06-01T10:00:00Z"},
        ]
    }

    response = client.post("/cds-services/her2-patient-view/feedback", json=body)

    assert response.status_code == 400
