"""Feedback: validated per CDS Hooks 2.0 (cds-fb-1..3), only for cards the service issued, and stored durably,
on SQLite and on PostgreSQL."""

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cds_service.app import create_app
from cds_service.config import Settings
from cds_service.store import FeedbackStore
from tests.utils import factories as f
from tests.utils.issued import issue

ACCEPTED = {
    "card": "5b1a3c56-2a3e-4f1e-9a0d-3d1c1b7a0001",
    "outcome": "accepted",
    "acceptedSuggestions": [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}],
    "outcomeTimestamp": "2026-11-29T08:15:30.52Z",
}
OVERRIDDEN = {
    "card": "5b1a3c56-2a3e-4f1e-9a0d-3d1c1b7a0002",
    "outcome": "overridden",
    "overrideReason": {"reason": {"code": "test-pending", "system": "urn:her2-cds:rule"}, "userComment": "sent out"},
    "outcomeTimestamp": "2026-11-29T16:15:30+08:00",
}


@pytest.fixture
def settings(settings: Settings, database_url: str) -> Settings:
    """Every test here runs on the embedded SQLite file and on a real PostgreSQL server."""
    return settings.model_copy(update={"database_url": database_url})


@pytest.fixture
def client(client: TestClient) -> TestClient:
    """The cards of ACCEPTED and OVERRIDDEN, recorded as issued by patient-view, as its answers would be."""
    issue(client, uuids=[ACCEPTED["card"], OVERRIDDEN["card"]])
    return client


def test_feedback_round_trip_through_the_database_file(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        issue(client, uuids=[ACCEPTED["card"], OVERRIDDEN["card"]])
        response = client.post(
            "/cds-services/her2-patient-view/feedback",
            json={
                "feedback": [ACCEPTED, OVERRIDDEN, {**OVERRIDDEN, "overrideReason": {"userComment": "no reason code"}}]
            },
        )
    assert response.status_code == 200
    assert response.json() == {"stored": 3}

    # A new store on the same file, after the app has shut down: the feedback is durable.
    store = FeedbackStore(settings.database_url)
    records = store.query(service_id="her2-patient-view")
    store.close()

    assert [r.outcome for r in records] == ["accepted", "overridden", "overridden"]
    assert records[0].accepted_suggestions == ("e56e1945-20b3-4393-8503-a1a20fd73152",)
    assert records[1].override_reason == {
        "reason": {"code": "test-pending", "system": "urn:her2-cds:rule"},
        "userComment": "sent out",
    }
    assert records[1].outcome_timestamp == datetime(2026, 11, 29, 8, 15, 30, tzinfo=UTC)
    assert records[2].card_uuid == OVERRIDDEN["card"]


def test_feedback_is_queryable_by_card(client: TestClient, settings: Settings) -> None:
    (order_card,) = issue(client, service="her2-order-select")
    posted = [
        client.post("/cds-services/her2-order-select/feedback", json={"feedback": [{**ACCEPTED, "card": order_card}]}),
        client.post(
            "/cds-services/her2-order-select/feedback",
            json={"feedback": [{**ACCEPTED, "card": order_card, "outcomeTimestamp": "2026-11-30T00:00:00Z"}]},
        ),
        client.post("/cds-services/her2-patient-view/feedback", json={"feedback": [OVERRIDDEN]}),
    ]

    assert [response.status_code for response in posted] == [200, 200, 200]
    store = FeedbackStore(settings.database_url)
    assert len(store.query(card_uuid=order_card)) == 2  # the same card may be reported again
    assert len(store.query(service_id="her2-patient-view")) == 1
    store.close()


def test_feedback_on_a_card_never_issued_is_422_naming_it_and_nothing_is_stored(
    client: TestClient, settings: Settings
) -> None:
    made_up = "5b1a3c56-2a3e-4f1e-9a0d-3d1c1b7a9999"
    body = {"feedback": [ACCEPTED, {**OVERRIDDEN, "card": made_up}, OVERRIDDEN]}

    response = client.post("/cds-services/her2-patient-view/feedback", json=body)

    assert response.status_code == 422
    [problem] = response.json()["issue"]
    assert problem["code"] == "not-found" and problem["expression"] == ["feedback.1.card"]
    assert made_up in problem["diagnostics"] and "no feedback of this request was stored" in problem["diagnostics"]
    store = FeedbackStore(settings.database_url)
    assert store.count() == 0  # all or nothing: the two known cards were not stored either
    store.close()


def test_feedback_on_a_card_of_another_service_is_refused(client: TestClient, settings: Settings) -> None:
    """A card is answered by one service; feedback sent to another service's endpoint cannot be traced to it."""
    response = client.post("/cds-services/her2-order-sign/feedback", json={"feedback": [ACCEPTED]})

    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == ["feedback.0.card"]
    store = FeedbackStore(settings.database_url)
    assert store.count() == 0
    store.close()


@pytest.mark.parametrize(
    "item",
    [
        {**ACCEPTED, "outcome": "ignored"},
        {k: v for k, v in ACCEPTED.items() if k != "acceptedSuggestions"},
        {**OVERRIDDEN, "overrideReason": {}},
        {k: v for k, v in ACCEPTED.items() if k != "outcomeTimestamp"},
        {**ACCEPTED, "outcomeTimestamp": "2026-11-29T08:15:30"},
        {k: v for k, v in ACCEPTED.items() if k != "card"},
    ],
    ids=[
        "outcome-enum",
        "accepted-without-suggestions",
        "empty-override-reason",
        "no-timestamp",
        "timestamp-without-zone",
        "no-card",
    ],
)
def test_invalid_feedback_is_400_and_nothing_is_stored(
    client: TestClient, settings: Settings, item: dict[str, Any]
) -> None:
    response = client.post("/cds-services/her2-patient-view/feedback", json={"feedback": [ACCEPTED, item]})

    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"][0].startswith("feedback.1")
    store = FeedbackStore(settings.database_url)
    assert store.query() == []
    store.close()


def test_feedback_for_unknown_service_is_404(client: TestClient) -> None:
    assert client.post("/cds-services/nope/feedback", json={"feedback": [ACCEPTED]}).status_code == 404


def test_empty_feedback_list_is_400(client: TestClient) -> None:
    assert client.post("/cds-services/her2-patient-view/feedback", json={"feedback": []}).status_code == 400


def test_feedback_on_a_real_card_uses_its_uuids(
    client: TestClient, templates: dict[str, str], settings: Settings
) -> None:
    body = f.hook_request("patient-view", prefetch=f.prefetch_for(templates, [f.patient(), f.breast_cancer()], "p1"))
    cards = client.post("/cds-services/her2-patient-view", json=body).json()["cards"]
    (card,) = [c for c in cards if c["source"]["topic"]["code"] == "her2-missing"]
    feedback = {
        "card": card["uuid"],
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
        "outcomeTimestamp": "2026-11-29T08:00:00Z",
    }

    assert client.post("/cds-services/her2-patient-view/feedback", json={"feedback": [feedback]}).status_code == 200
    store = FeedbackStore(settings.database_url)
    assert store.query(card_uuid=card["uuid"])[0].accepted_suggestions == (card["suggestions"][0]["uuid"],)
    store.close()
