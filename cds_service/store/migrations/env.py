"""Alembic environment: runs on the connection `upgrade.py` passes (already locked), or on the configured URL."""

from alembic import context
from sqlalchemy import Connection, create_engine

from cds_service.store.tables import Base

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite alters a table by copying it; batch mode writes migrations that way
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported: run `her2-cds db upgrade`")

shared: Connection | None = config.attributes.get("connection")
if shared is not None:
    _run(shared)
else:  # the plain `alembic` command of a developer, with sqlalchemy.url set
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as connection:
        _run(connection)
    engine.dispose()
