"""Cards the service answered with, without patient data, so that feedback can be traced to its rules."""

import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Dialect, PoolProxiedConnection, func, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from .database import Database
from .tables import IssuedCardRow

__all__ = ["IssuedCard", "IssuedCards", "issued_by"]

# A connection idle longer than this goes back to the pool (and is pinged when next checked out).
KEEP_IDLE_SECONDS = 30.0


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
        # The writing connection is kept between writes: a checkout from the pool costs a round trip to a
        # PostgreSQL server (pre-ping) and the pool's reset. Kept only while writes keep coming (see _connection).
        self._writing = threading.Lock()
        self._kept: PoolProxiedConnection | None = None
        self._kept_until = 0.0
        self._closed = False
        self._database = database
        database.on_close(self.close)

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

    def close(self) -> None:
        """Gives the kept connection back (the database is closing); a write still queued then fails rather than
        open a connection nothing would give back."""
        with self._writing:
            self._closed = True
            self._release()

    def _insert(self, cards: Sequence[IssuedCard]) -> None:
        if not cards:
            return
        parameters = self._insert_rows.parameters(cards)
        with self._writing:  # the writer thread, and tests that record directly
            connection = self._connection()
            # This runs on every hook call: one prepared INSERT, executemany on the driver's own connection, no
            # SQLAlchemy statement handling per call (it cost more CPU than the database's insert and commit).
            try:
                with self._database.write_turn():  # workers sharing a SQLite file take turns
                    cursor = connection.cursor()
                    try:
                        cursor.executemany(self._insert_rows.sql, parameters)
                    finally:
                        cursor.close()
                    connection.commit()
            except Exception as exc:
                broken = self._roll_back(connection, exc)
                dbapi_error = self._engine.dialect.loaded_dbapi.Error
                if isinstance(exc, dbapi_error):  # as SQLAlchemy raises it: IntegrityError, OperationalError, ...
                    raise DBAPIError.instance(
                        self._insert_rows.sql, None, exc, dbapi_error, connection_invalidated=broken
                    ) from exc
                raise
            self._kept_until = time.monotonic() + KEEP_IDLE_SECONDS

    def _connection(self) -> PoolProxiedConnection:
        """The kept connection while writes keep coming; after a quiet spell one from the pool, which checks it
        is alive (a server or firewall may drop a connection left idle)."""
        if self._closed:
            raise RuntimeError("the issued-cards store is closed")
        if self._kept is not None and time.monotonic() > self._kept_until:
            # Dropped, not given back: the pool's reset of a connection the server closed meanwhile would log a
            # false alarm. A new one after 30 s without a write costs nothing that matters.
            kept, self._kept = self._kept, None
            kept.invalidate()
            kept.close()
        if self._kept is None:
            self._kept = self._engine.raw_connection()
        return self._kept

    def _release(self) -> None:
        kept, self._kept = self._kept, None
        if kept is not None:
            kept.close()  # back to the pool

    def _roll_back(self, connection: PoolProxiedConnection, error: Exception) -> bool:
        """Leaves the connection clean, or drops it if it is broken (the server closed it; True): the retry
        gets another."""
        dialect = self._engine.dialect
        if not (isinstance(error, dialect.loaded_dbapi.Error) and dialect.is_disconnect(error, connection, None)):
            try:
                connection.rollback()
                return False
            except Exception:  # noqa: BLE001, S110 - broken after all: invalidated below
                pass
        self._kept = None
        connection.invalidate(error)
        connection.close()
        return True

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
        convert = {column.key: column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns}
        rules, self._issued_at = convert["rules"], convert["issued_at"]
        # Cards show the same few rule lists over and over: each is converted (to JSON) once.
        self._rules = lru_cache(maxsize=4096)(lambda shown: rules(list(shown)) if rules else list(shown))
        self._order = compiled.positiontup if compiled.positional else None
        if self._order is not None and self._order != _FIELDS:
            raise RuntimeError(f"unexpected parameter order {self._order}")  # the columns changed: see parameters

    def parameters(self, cards: Sequence[IssuedCard]) -> list[Any]:
        rules, convert_time = self._rules, self._issued_at
        rows = []
        last_time: Any = None
        time_value: Any = None
        for card in cards:
            if card.issued_at is not last_time:  # the cards of one answer share one time
                last_time = card.issued_at
                time_value = convert_time(last_time) if convert_time else last_time
            rows.append(
                (card.card_uuid, card.service_id, rules(card.rules), card.indicator, time_value, card.knowledge_version)
            )
        return rows if self._order is not None else [dict(zip(_FIELDS, row, strict=True)) for row in rows]


_FIELDS = ["card_uuid", "service_id", "rules", "indicator", "issued_at", "knowledge_version"]
