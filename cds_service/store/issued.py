"""Cards the service answered with, without patient data, so that feedback can be traced to its rules."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Dialect, PoolProxiedConnection, func, insert, select
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
        self._insert_rows = _RowInsert(database.engine.dialect)

    def record(self, cards: Sequence[IssuedCard]) -> None:
        """Idempotent: a retry after a commit whose acknowledgement was lost does not fail on the unique uuid."""
        if not cards:
            return
        try:
            self._insert(cards)
        except self._insert_rows.duplicate:
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
        # This runs on every hook call: one prepared INSERT, executemany on the driver's own connection, no
        # SQLAlchemy statement handling per call (it cost more CPU than the database's insert and commit).
        connection = self._engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.executemany(self._insert_rows.sql, self._insert_rows.parameters(cards))
            finally:
                cursor.close()
            connection.commit()
        except Exception as exc:
            self._roll_back(connection, exc)
            raise
        finally:
            connection.close()  # back to the pool

    def _roll_back(self, connection: PoolProxiedConnection, error: Exception) -> None:
        """Leaves the pooled connection clean, or takes it out of the pool if it is broken (the server closed it)."""
        dialect = self._engine.dialect
        if not (isinstance(error, dialect.loaded_dbapi.Error) and dialect.is_disconnect(error, connection, None)):
            try:
                connection.rollback()
                return
            except Exception:  # noqa: BLE001, S110 - broken after all: invalidated below
                pass
        connection.invalidate(error)

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


class _RowInsert:
    """The INSERT of issued_cards rows, compiled once per dialect, with the column types' own value conversions
    (JSON text for the rules, SQLite's datetime text), so rows are stored exactly as SQLAlchemy would store them."""

    def __init__(self, dialect: Dialect) -> None:
        columns = [column for column in IssuedCardRow.__table__.c if column.key != "id"]
        # for_executemany: no RETURNING of the new ids (PostgreSQL adds it to a single-row INSERT).
        compiled = insert(IssuedCardRow).compile(
            dialect=dialect, column_keys=[column.key for column in columns], for_executemany=True
        )
        self.sql = str(compiled)
        self.duplicate: type[Exception] = dialect.loaded_dbapi.IntegrityError
        convert = {column.key: column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns}
        self._rules, self._issued_at = convert["rules"], convert["issued_at"]
        self._order = compiled.positiontup if compiled.positional else None
        if self._order is not None and self._order != _FIELDS:
            raise RuntimeError(f"unexpected parameter order {self._order}")  # the columns changed: see _values

    def parameters(self, cards: Sequence[IssuedCard]) -> list[Any]:
        rows = [self._values(card) for card in cards]
        return rows if self._order is not None else [dict(zip(_FIELDS, row, strict=True)) for row in rows]

    def _values(self, card: IssuedCard) -> tuple[Any, ...]:
        rules: Any = list(card.rules)
        issued_at: Any = card.issued_at
        if self._rules is not None:
            rules = self._rules(rules)
        if self._issued_at is not None:
            issued_at = self._issued_at(issued_at)
        return (card.card_uuid, card.service_id, rules, card.indicator, issued_at, card.knowledge_version)


_FIELDS = ["card_uuid", "service_id", "rules", "indicator", "issued_at", "knowledge_version"]
