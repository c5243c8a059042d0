"""The database schema by Alembic migrations: upgraded to the newest revision at start, one process at a time."""

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, text

__all__ = ["SchemaTooNew", "current_revision", "head_revision", "upgrade_to_head"]

log = logging.getLogger("cds_service.store")
# Alembic says "Context impl SQLiteImpl." at INFO on every start; the one line below says what changed.
logging.getLogger("alembic").setLevel(logging.WARNING)

MIGRATIONS = Path(__file__).parent / "migrations"
# Any fixed number: the PostgreSQL advisory lock that lets one replica migrate while the others wait.
ADVISORY_LOCK = 4_821_705_339


class SchemaTooNew(RuntimeError):
    def __init__(self, found: str) -> None:
        super().__init__(
            f"the database is at schema revision {found}, which this version of the service does not know "
            f"(its newest is {head_revision()}): a newer version migrated it; run that version"
        )


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for an empty database or one made by create_all before migrations."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(engine: Engine) -> None:
    """Idempotent, and safe for replicas starting together: the first takes a lock and migrates in one
    transaction; the others wait for the lock, then find the database at head and do nothing."""
    config = _config()
    with engine.connect() as connection:
        _lock(connection)
        found = MigrationContext.configure(connection).get_current_revision()
        if found is not None and not _known(config, found):
            raise SchemaTooNew(found)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        upgraded = MigrationContext.configure(connection).get_current_revision()
        connection.commit()
    if upgraded != found:
        log.info("database schema upgraded from revision %s to %s", found or "none", upgraded)


def _known(config: Config, revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(config).get_revision(revision) is not None
    except CommandError:
        return False


def _lock(connection: Connection) -> None:
    backend = connection.dialect.name
    if backend == "postgresql":
        # Released at commit; PostgreSQL's DDL is transactional, so a waiting replica sees all or nothing.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
    elif backend == "sqlite":
        # The write lock from the first statement on (busy_timeout waits for it): the DDL joins the transaction.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
