"""Cards the service issued, for tests that post feedback: feedback on a card it never issued is refused."""

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from cds_service.store import IssuedCard, IssuedCards

__all__ = ["issue", "issued_cards"]


def issue(
    client: TestClient,
    count: int = 1,
    *,
    service: str = "her2-patient-view",
    rule: str = "T1",
    uuids: list[str] | None = None,
) -> list[str]:
    """Records cards (`uuids`, or `count` new ones) as issued by `service`, as a hook answer would; their uuids."""
    store: IssuedCards = client.app.state.issued_cards  # type: ignore[attr-defined]
    version: str = client.app.state.engine.version.label  # type: ignore[attr-defined]
    uuids = uuids or [str(uuid.uuid4()) for _ in range(count)]
    now = datetime.now(UTC)
    store.record([IssuedCard(u, service, (rule,), "info", now, version) for u in uuids])
    return uuids


def issued_cards(response: Any) -> list[dict[str, Any]]:
    """The cards of a hook answer (a TestClient or httpx response), which the service recorded as issued."""
    assert response.status_code == 200, response.text
    cards: list[dict[str, Any]] = response.json()["cards"]
    return cards
