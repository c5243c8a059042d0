"""The database unavailable for a while (locked by another writer past the wait, a broken table): requests that
need it are answered 503 with Retry-After and an OperationOutcome, never the last-resort 500; the log names the
error's type only. Hook calls without client authentication never need the database before answering."""

import fcntl
import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cds_service.app import create_app
from cds_service.config import Settings
from cds_service.store import Database
from tests.api.test_client_auth import BASE, bearer, token, with_trusted_clients
from tests.utils import factories as f
from tests.utils.issued import issue

UNAVAILABLE_OUTCOME = {
    "resourceType": "OperationOutcome",
    "issue": [
        {
            "severity": "error",
            "code": "transient",
            "diagnostics": "the service's database is unavailable for now; try again shortly",
        }
    ],
}


def _database(client: TestClient) -> Database:
    database: Database = client.app.state.feedback_store.database  # type: ignore[attr-defined]
    return database


@contextmanager
def write_turn_held_elsewhere(database: Database) -> Iterator[None]:
    """As another worker process would hold it: a separate open file description of the lock file."""
    assert database.turns is not None
    database.turns.wait_seconds = 0.05  # the service waits 30 s; the test need not
    fd = os.open(database.turns.path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _feedback(card: str) -> dict[str, object]:
    return {"feedback": [{"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-12-01T10:00:00Z"}]}


def test_feedback_while_another_writer_holds_the_database_is_503_then_stored(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with TestClient(create_app(settings)) as client:
        (card,) = issue(client)
        with write_turn_held_elsewhere(_database(client)), caplog.at_level(logging.ERROR):
            busy = client.post("/cds-services/her2-patient-view/feedback", json=_feedback(card))
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == "5"
        assert busy.json() == UNAVAILABLE_OUTCOME
        assert "database unavailable (NoWriteTurn)" in caplog.text
        assert client.app.state.feedback_store.count() == 0  # type: ignore[attr-defined]

        again = client.post("/cds-services/her2-patient-view/feedback", json=_feedback(card))
        assert again.status_code == 200 and again.json() == {"stored": 1}


def test_authenticated_calls_when_the_replay_record_cannot_be_written_are_503(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with TestClient(create_app(with_trusted_clients(settings, tmp_path)), raise_server_exceptions=False) as client:
        path = str(_database(client).engine.url.database)
        with sqlite3.connect(path) as broken:  # the table the replay check writes is gone
            broken.execute("DROP TABLE client_jwt_seen")
        service = "/cds-services/her2-patient-view"
        body = f.hook_request(
            "patient-view", prefetch=dict.fromkeys(client.app.state.catalog["her2-patient-view"].prefetch)
        )  # type: ignore[attr-defined]
        with caplog.at_level(logging.INFO):
            hook = client.post(service, json=body, headers=bearer(token(f"{BASE}{service}")))
            discovery = client.get("/cds-services", headers=bearer(token(f"{BASE}/cds-services")))
        for response in (hook, discovery):
            assert response.status_code == 503, response.text
            assert response.headers["Retry-After"] == "5"
            assert response.json() == UNAVAILABLE_OUTCOME
        assert "database unavailable (OperationalError)" in caplog.text
        assert path not in caplog.text and "client_jwt_seen" not in caplog.text  # the driver's message is not logged
        assert "internal error" not in caplog.text


def test_hook_calls_without_client_authentication_answer_while_the_database_is_locked(settings: Settings) -> None:
    """The issued-cards record never fails a hook (it waits at most the deadline, then logs): cards still come."""
    with TestClient(create_app(settings)) as client:
        templates = client.app.state.catalog["her2-patient-view"].prefetch  # type: ignore[attr-defined]
        body = f.hook_request(
            "patient-view", prefetch=f.prefetch_for(templates, [f.patient(), f.breast_cancer()], "p1")
        )
        with write_turn_held_elsewhere(_database(client)):
            response = client.post("/cds-services/her2-patient-view", json=body)
        assert response.status_code == 200
        assert response.json()["cards"]  # a breast cancer without a HER2 result: the card that says so
