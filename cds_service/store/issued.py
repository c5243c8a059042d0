"""Cards the service answered with, without patient data, so that feedback can be traced to its rules."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from .database import Database
from .tables import IssuedCardRow

__all__ = ["IssuedCard", "IssuedCards"]


@dataclass(frozen=True)
class IssuedCard:
    card_uuid: str
    service_id: str
    rules: tuple[str, ...]  # card.source.topic.code: a knowledge row or an engine rule id
    indicator: str
    issued_at: datetime


class IssuedCards:
    def __init__(self, database: Database) -> None:
        self._engine = database.engine

    def record(self, cards: Sequence[IssuedCard]) -> None:
        if not cards:
            return
        rows = [
            {
                "card_uuid": card.card_uuid,
                "service_id": card.service_id,
                "rules": list(card.rules),
                "indicator": card.indicator,
                "issued_at": card.issued_at,
            }
            for card in cards
        ]
        # One INSERT for all rows, without the ORM's unit of work: this runs on every hook call.
        with self._engine.begin() as connection:
            connection.execute(insert(IssuedCardRow), rows)

    def find(self, card_uuid: str) -> IssuedCard | None:
        statement = select(IssuedCardRow).where(IssuedCardRow.card_uuid == card_uuid).limit(1)
        with Session(self._engine) as session:
            row = session.scalars(statement).first()
            if row is None:
                return None
            issued = row.issued_at if row.issued_at.tzinfo else row.issued_at.replace(tzinfo=UTC)
            return IssuedCard(row.card_uuid, row.service_id, tuple(row.rules), row.indicator, issued)

    def count(self) -> int:
        with Session(self._engine) as session:
            return int(session.scalar(select(func.count(IssuedCardRow.id))) or 0)
