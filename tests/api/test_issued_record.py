"""The issued-cards record is written before the answer: a transient failure is tried again; a lasting one still
answers the cards, is logged and counted, and their feedback is then refused as unknown."""

import logging
from collections.abc import Sequence
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from cds_service.app import create_app
from cds_service.config import Settings
from cds_service.store import IssuedCard, IssuedCards
from tests.api.test_operations import _patient_view, _sample
from tests.scenarios import records


class _FailingRecord:
    """IssuedCards.record failing `times` times (the database's error), then recording."""

    def __init__(self, store: IssuedCards, times: int) -> None:
        self.store, self.left, self.calls = store, times, 0

    def __call__(self, cards: Sequence[IssuedCard]) -> None:
        self.calls += 1
        if self.left > 0:
            self.left -= 1
            raise OperationalError("INSERT INTO issued_cards", {}, Exception("database is locked"))
        self.store.record(cards)


def _fail(client: TestClient, monkeypatch: pytest.MonkeyPatch, times: int) -> _FailingRecord:
    store: IssuedCards = client.app.state.issued_cards  # type: ignore[attr-defined]
    failing = _FailingRecord(IssuedCards(client.app.state.database), times)  # type: ignore[attr-defined]
    monkeypatch.setattr(store, "record", failing)
    return failing


def _feedback(card: dict[str, Any]) -> dict[str, Any]:
    return {"feedback": [{"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-12-01T00:00:00Z"}]}


def test_a_transient_failure_is_tried_again_and_the_cards_are_recorded(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = _fail(client, monkeypatch, times=1)

    response = client.post("/cds-services/her2-patient-view", json=_patient_view(client, records.her2_positive()))

    assert response.status_code == 200 and failing.calls == 2
    card = response.json()["cards"][0]
    assert client.post("/cds-services/her2-patient-view/feedback", json=_feedback(card)).status_code == 200


def test_cards_the_database_cannot_record_are_answered_counted_and_their_feedback_refused(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    before = _sample(client.get("/metrics").text, "her2_cds_cards_unrecorded_total", service="her2-patient-view")
    _fail(client, monkeypatch, times=10)

    with caplog.at_level(logging.WARNING, logger="cds_service.ops"):
        response = client.post("/cds-services/her2-patient-view", json=_patient_view(client, records.her2_positive()))

    assert response.status_code == 200  # decision support does not wait on its audit record
    cards = response.json()["cards"]
    after = _sample(client.get("/metrics").text, "her2_cds_cards_unrecorded_total", service="her2-patient-view")
    assert after - before == len(cards) > 0
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == [f"{len(cards)} issued cards not recorded (OperationalError): feedback on them will be refused"]
    refused = client.post("/cds-services/her2-patient-view/feedback", json=_feedback(cards[0]))
    assert refused.status_code == 422


def test_feedback_to_another_replica_is_accepted_as_soon_as_the_answer_is_sent(
    settings: Settings, database_url: str
) -> None:
    """The answer leaves only once its cards are committed: a second app on the same database (another worker of
    the host on SQLite, another replica on PostgreSQL) accepts feedback on every card of the answer at once."""
    shared = settings.model_copy(update={"database_url": database_url})
    with TestClient(create_app(shared)) as first, TestClient(create_app(shared)) as second:
        for _ in range(3):
            response = first.post("/cds-services/her2-patient-view", json=_patient_view(first, records.her2_positive()))
            cards = response.json()["cards"]
            assert response.status_code == 200 and cards
            for card in cards:
                assert second.post("/cds-services/her2-patient-view/feedback", json=_feedback(card)).status_code == 200
