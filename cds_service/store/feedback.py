"""Feedback persistence with SQLAlchemy: an embedded SQLite file by default, any database by URL."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..hooks.feedback import Feedback
from ..ops.metrics import FEEDBACK
from .database import Database
from .issued import issued_by
from .tables import FeedbackRow, IssuedCardRow

__all__ = ["FeedbackRecord", "FeedbackStore", "UnknownCards"]


class UnknownCards(Exception):
    """Feedback names cards this service never issued (or issued under another service id): nothing stored."""

    def __init__(self, service_id: str, unknown: list[tuple[int, str]]) -> None:
        super().__init__(f"{len(unknown)} card(s) not issued by {service_id}")
        self.service_id = service_id
        self.unknown = unknown  # (index in the request, card uuid)


@dataclass(frozen=True)
class FeedbackRecord:
    service_id: str
    card_uuid: str
    outcome: str
    accepted_suggestions: tuple[str, ...]
    override_reason: dict[str, Any] | None
    outcome_timestamp: datetime
    received_at: datetime
    # The rules of the card, from the issued-cards record (empty for a card this service has no record of).
    rules: tuple[str, ...] = ()

    def as_json(self) -> str:
        return json.dumps(
            {
                "serviceId": self.service_id,
                "card": self.card_uuid,
                "outcome": self.outcome,
                "acceptedSuggestions": list(self.accepted_suggestions),
                "overrideReason": self.override_reason,
                "outcomeTimestamp": self.outcome_timestamp.isoformat(),
                "receivedAt": self.received_at.isoformat(),
                "rules": list(self.rules),
            },
            ensure_ascii=False,
        )


def _utc(moment: datetime) -> datetime:
    # SQLite drops the zone; everything is stored as UTC, so it is restored as UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class FeedbackStore:
    """On a shared `Database`, or on its own engine when given a URL (the CLI, tests)."""

    def __init__(self, database: Database | str) -> None:
        self._owned = isinstance(database, str)
        self.database = Database(database) if isinstance(database, str) else database
        self._engine = self.database.engine

    def add(self, service_id: str, items: list[Feedback]) -> int:
        """All or nothing: if any item names a card this service did not issue, UnknownCards and none is stored.
        Feedback that cannot be traced to a card's rules and knowledge version would only blur the analysis."""
        now = datetime.now(UTC)
        with self.database.write_turn(), Session(self._engine) as session, session.begin():
            known = issued_by(session, service_id, [item.card for item in items])
            unknown = [(index, item.card) for index, item in enumerate(items) if item.card not in known]
            if unknown:
                raise UnknownCards(service_id, unknown)
            session.add_all(
                FeedbackRow(
                    service_id=service_id,
                    card_uuid=item.card,
                    outcome=item.outcome,
                    accepted_suggestions=[s.id for s in item.acceptedSuggestions or ()] or None,
                    override_reason=item.overrideReason.model_dump(exclude_none=True) if item.overrideReason else None,
                    outcome_timestamp=_utc(item.outcomeTimestamp),
                    received_at=now,
                )
                for item in items
            )
        for item in items:
            FEEDBACK.labels(service_id, item.outcome).inc()
        return len(items)

    def count(self, *, service_id: str | None = None) -> int:
        statement = select(func.count(FeedbackRow.id))
        if service_id:
            statement = statement.where(FeedbackRow.service_id == service_id)
        with Session(self._engine) as session:
            return int(session.scalar(statement) or 0)

    def query(
        self, *, service_id: str | None = None, card_uuid: str | None = None, limit: int = 1000
    ) -> list[FeedbackRecord]:
        rules = (
            select(IssuedCardRow.rules)
            .where(IssuedCardRow.card_uuid == FeedbackRow.card_uuid)
            .limit(1)
            .scalar_subquery()
        )
        statement = select(FeedbackRow, rules).order_by(FeedbackRow.id).limit(limit)
        if service_id:
            statement = statement.where(FeedbackRow.service_id == service_id)
        if card_uuid:
            statement = statement.where(FeedbackRow.card_uuid == card_uuid)
        with Session(self._engine) as session:
            return [
                FeedbackRecord(
                    service_id=row.service_id,
                    card_uuid=row.card_uuid,
                    outcome=row.outcome,
                    accepted_suggestions=tuple(row.accepted_suggestions or ()),
                    override_reason=row.override_reason,
                    outcome_timestamp=_utc(row.outcome_timestamp),
                    received_at=_utc(row.received_at),
                    rules=tuple(card_rules or ()),
                )
                for row, card_rules in session.execute(statement)
            ]

    def close(self) -> None:
        if self._owned:
            self.database.close()
