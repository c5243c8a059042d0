"""Cards the service answered with, without patient data, so that feedback can be traced to its rules."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .database import Database
from .tables import IssuedCardRow

__all__ = ["IssuedCard", "IssuedCards", "issued_by"]


@dataclass(frozen=True)
class IssuedCard:
    card_uuid: str
    service_id: str
    rules: tuple[str, ...]  # card.source.topic.code, then every row the card shows: knowledge rows, engine rules
    indicator: str
    issued_at: datetime
    knowledge_version: str | None  # engine.version.label (None only for cards recorded before it was)


def issued_by(session: Session, service_id: str, card_uuids: Collection[str]) -> set[str]:
    """Those of `card_uuids` this service issued (a card of another service is not among them)."""
    statement = select(IssuedCardRow.card_uuid).where(
        IssuedCardRow.card_uuid.in_(set(card_uuids)), IssuedCardRow.service_id == service_id
    )
    return set(session.scalars(statement))


class IssuedCards:
    def __init__(self, database: Database) -> None:
        self._engine = database.engine

    def record(self, cards: Sequence[IssuedCard]) -> None:
        """Idempotent: a retry after a commit whose acknowledgement was lost does not fail on the unique uuid."""
        if not cards:
            return
        try:
            self._insert(cards)
        except IntegrityError:
            with Session(self._engine) as session:
                present = set(
                    session.scalars(
                        select(IssuedCardRow.card_uuid).where(IssuedCardRow.card_uuid.in_([c.card_uuid for c in cards]))
                    )
                )
            self._insert([card for card in cards if card.card_uuid not in present])

    def _insert(self, cards: Sequence[IssuedCard]) -> None:
        if not cards:
            return
        rows = [
            {
                "card_uuid": card.card_uuid,
                "service_id": card.service_id,
                "rules": list(card.rules),
                "indicator": card.indicator,
                "issued_at": card.issued_at,
                "knowledge_version": card.knowledge_version,
            }
            for card in cards
        ]
        # One INSERT for all rows, without the ORM's unit of work: this runs on every hook call.
        with self._engine.begin() as connection:
            connection.execute(insert(IssuedCardRow), rows)

    def find(self, card_uuid: str) -> IssuedCard | None:
        statement = select(IssuedCardRow).where(IssuedCardRow.card_uuid == card_uuid)
        with Session(self._engine) as session:
            row = session.scalars(statement).first()
            if row is None:
                return None
            issued = row.issued_at if row.issued_at.tzinfo else row.issued_at.replace(tzinfo=UTC)
            return IssuedCard(
                row.card_uuid, row.service_id, tuple(row.rules), row.indicator, issued, row.knowledge_version
            )

    def count(self) -> int:
        with Session(self._engine) as session:
            return int(session.scalar(select(func.count(IssuedCardRow.id))) or 0)
