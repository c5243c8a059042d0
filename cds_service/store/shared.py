"""State that replicas share through the database: client JWTs already used, and fetched JWK Sets."""

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .database import Database
from .tables import JwksRow, SeenTokenRow

__all__ = ["CachedJwks", "JwksCache", "ReplayGuard"]

# Expired rows are swept at most this often per process.
PURGE_INTERVAL_SECONDS = 60.0


class ReplayGuard:
    def __init__(self, database: Database, *, grace_seconds: float) -> None:
        self._database = database
        self._engine = database.engine
        self._grace = grace_seconds
        self._purged_at = float("-inf")

    def first_use(self, issuer: str, jti: str, expires_at: float) -> bool:
        """True the first time (issuer, jti) is seen by any replica; False for a replay."""
        key = hashlib.sha256(f"{issuer}\0{jti}".encode()).hexdigest()
        now = time.time()
        if now - self._purged_at > PURGE_INTERVAL_SECONDS:
            self._purged_at = now
            with self._database.write_turn(), Session(self._engine) as session, session.begin():
                session.execute(delete(SeenTokenRow).where(SeenTokenRow.expires_at < now - self._grace))
        try:
            with self._database.write_turn(), Session(self._engine) as session, session.begin():
                session.add(SeenTokenRow(key=key, expires_at=expires_at + self._grace))
        except IntegrityError:
            return False
        return True


@dataclass(frozen=True)
class CachedJwks:
    keys: list[dict[str, Any]] | None
    fetched_at: float  # wall clock of the last good fetch (0: never)
    failed_at: float  # wall clock of the last failed fetch (0: never)


class JwksCache:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._engine = database.engine

    def get(self, url: str) -> CachedJwks | None:
        with Session(self._engine) as session:
            row = session.get(JwksRow, url)
            return None if row is None else CachedJwks(row.keys, row.fetched_at, row.failed_at)

    def put(self, url: str, keys: list[dict[str, Any]] | None, now: float) -> None:
        """A good fetch replaces the keys; a failed one only stamps the failure and keeps the last keys."""
        for _ in range(2):
            try:
                with self._database.write_turn(), Session(self._engine) as session, session.begin():
                    row = session.get(JwksRow, url, with_for_update=True)
                    if row is None:
                        row = JwksRow(url=url, keys=None, fetched_at=0.0, failed_at=0.0)
                        session.add(row)
                    if keys is None:
                        row.failed_at = now
                    else:
                        row.keys, row.fetched_at, row.failed_at = keys, now, 0.0
                return
            except IntegrityError:
                continue  # another replica inserted the row first: update it on the second pass
