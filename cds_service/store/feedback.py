"""Feedback persistence with SQLAlchemy: an embedded SQLite file by default, any database by URL."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, String, create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from ..hooks.feedback import Feedback

__all__ = ["FeedbackRecord", "FeedbackStore"]


class _Base(DeclarativeBase):
    pass


class _FeedbackRow(_Base):
    __tablename__ = "card_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service_id: Mapped[str] = mapped_column(String(128), index=True)
    card_uuid: Mapped[str] = mapped_column(String(128), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    accepted_suggestions: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    override_reason: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    outcome_timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class FeedbackRecord:
    service_id: str
    card_uuid: str
    outcome: str
    accepted_suggestions: tuple[str, ...]
    override_reason: dict[str, Any] | None
    outcome_timestamp: datetime
    received_at: datetime

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
            },
            ensure_ascii=False,
        )


def _utc(moment: datetime) -> datetime:
    # SQLite drops the zone; everything is stored as UTC, so it is restored as UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class FeedbackStore:
    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        self._engine = create_engine(url, pool_pre_ping=True)
        _Base.metadata.create_all(self._engine)

    def add(self, service_id: str, items: list[Feedback]) -> int:
        now = datetime.now(UTC)
        with Session(self._engine) as session, session.begin():
            session.add_all(
                _FeedbackRow(
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
        return len(items)

    def query(
        self, *, service_id: str | None = None, card_uuid: str | None = None, limit: int = 1000
    ) -> list[FeedbackRecord]:
        statement = select(_FeedbackRow).order_by(_FeedbackRow.id).limit(limit)
        if service_id:
            statement = statement.where(_FeedbackRow.service_id == service_id)
        if card_uuid:
            statement = statement.where(_FeedbackRow.card_uuid == card_uuid)
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
                )
                for row in session.scalars(statement)
            ]

    def close(self) -> None:
        self._engine.dispose()
