"""The schema by Alembic migrations, on SQLite and a real PostgreSQL server: fresh databases, databases made
by the create_all of earlier versions (rows kept), models and migrations in agreement, and `her2-cds db`."""

from datetime import UTC, datetime
from threading import Thread

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from cds_service.cli import main
from cds_service.store import Database, FeedbackStore, IssuedCard, IssuedCards
from cds_service.store.schema import SchemaTooNew, current_revision, head_revision
from cds_service.store.summary import NO_VERSION, rule_summary
from cds_service.store.tables import Base
from tests.utils.replicas import open_together

MOMENT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _old_create_all_schema() -> sa.MetaData:
    """The tables exactly as `Base.metadata.create_all` made them before migrations (commit 2489d2c)."""
    old = sa.MetaData()
    sa.Table(
        "card_feedback",
        old,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("service_id", sa.String(128), nullable=False, index=True),
        sa.Column("card_uuid", sa.String(128), nullable=False, index=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("accepted_suggestions", sa.JSON, nullable=True),
        sa.Column("override_reason", sa.JSON, nullable=True),
        sa.Column("outcome_timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    sa.Table(
        "issued_cards",
        old,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("card_uuid", sa.String(64), nullable=False, index=True),
        sa.Column("service_id", sa.String(128), nullable=False),
        sa.Column("rules", sa.JSON, nullable=False),
        sa.Column("indicator", sa.String(16), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    sa.Table(
        "client_jwt_seen",
        old,
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.Float, nullable=False, index=True),
    )
    sa.Table(
        "client_jwks",
        old,
        sa.Column("url", sa.String(2048), primary_key=True),
        sa.Column("keys", sa.JSON, nullable=True),
        sa.Column("fetched_at", sa.Float, nullable=False),
        sa.Column("failed_at", sa.Float, nullable=False),
    )
    return old


def _pending_differences(database: Database) -> list[object]:
    """What `alembic check` reports: the autogenerate diff between the models and the migrated database."""
    with database.engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


def test_a_fresh_database_is_migrated_to_the_newest_revision(database_url: str) -> None:
    database = Database(database_url)
    try:
        assert current_revision(database.engine) == head_revision() == "0002"
        tables = set(sa.inspect(database.engine).get_table_names())
        assert tables == {"alembic_version", "card_feedback", "issued_cards", "client_jwt_seen", "client_jwks"}
    finally:
        database.close()


def test_models_and_migrations_agree(database_url: str) -> None:
    """A model changed without its migration fails here (alembic check: no pending autogenerate diff)."""
    database = Database(database_url)
    try:
        assert _pending_differences(database) == []
    finally:
        database.close()


def test_an_old_create_all_database_is_adopted_and_upgraded_with_its_rows(database_url: str) -> None:
    engine = sa.create_engine(database_url)
    old = _old_create_all_schema()
    old.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            old.tables["issued_cards"].insert(),
            [
                {
                    "card_uuid": "old-card",
                    "service_id": "her2-patient-view",
                    "rules": ["M1", "her2-status"],
                    "indicator": "info",
                    "issued_at": MOMENT,
                }
            ],
        )
        connection.execute(
            old.tables["card_feedback"].insert(),
            [
                {
                    "service_id": "her2-patient-view",
                    "card_uuid": "old-card",
                    "outcome": "overridden",
                    "override_reason": {"reason": {"code": "mdt"}},
                    "outcome_timestamp": MOMENT,
                    "received_at": MOMENT,
                }
            ],
        )
        connection.execute(old.tables["client_jwt_seen"].insert(), [{"key": "k" * 64, "expires_at": 1e12}])
    engine.dispose()

    database = Database(database_url)
    try:
        assert current_revision(database.engine) == "0002"
        assert _pending_differences(database) == []  # the adopted database is the same as a fresh one
        assert IssuedCards(database).find("old-card") == IssuedCard(
            "old-card", "her2-patient-view", ("M1", "her2-status"), "info", MOMENT, None
        )
        [feedback] = FeedbackStore(database).query()
        assert (feedback.outcome, feedback.rules) == ("overridden", ("M1", "her2-status"))  # still traced
        m1 = rule_summary(database)["M1"]
        assert (m1.issued, m1.overridden, dict(m1.versions)) == (1, 1, {NO_VERSION: 1})
        with database.engine.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM client_jwt_seen")).scalar() == 1
    finally:
        database.close()


def test_the_card_uuid_is_unique_after_the_upgrade(database_url: str) -> None:
    database = Database(database_url)
    try:
        indexes = {i["name"]: i for i in sa.inspect(database.engine).get_indexes("issued_cards")}
        assert indexes["ix_issued_cards_card_uuid"]["unique"]
    finally:
        database.close()


def test_replicas_starting_together_on_an_old_database_migrate_it_once(database_url: str) -> None:
    engine = sa.create_engine(database_url)
    _old_create_all_schema().create_all(engine)
    engine.dispose()
    opened, failures = open_together(database_url)
    try:
        assert not failures and len(opened) == 4
        assert {current_revision(database.engine) for database in opened} == {"0002"}
    finally:
        for database in opened:
            database.close()


def test_a_database_migrated_by_a_newer_version_is_refused_clearly(database_url: str) -> None:
    Database(database_url).close()
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()

    with pytest.raises(SchemaTooNew, match="revision 0099, which this version of the service does not know"):
        Database(database_url)


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_database_is_one_database_for_every_session(url: str) -> None:
    """Each new connection to :memory: is a new empty database: the engine shares one, so the tables stay."""
    database = Database(url)
    try:
        card = IssuedCard("c-1", "her2-patient-view", ("T1",), "info", MOMENT, "v")
        writer = Thread(target=IssuedCards(database).record, args=([card],))
        writer.start()
        writer.join()
        assert IssuedCards(database).find("c-1") == card  # written in another thread, read here
        assert current_revision(database.engine) == head_revision()
    finally:
        database.close()


def test_db_command_reports_and_upgrades(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HER2_CDS_DATABASE_URL", database_url)

    assert main(["db", "current"]) == 1
    assert "revision none" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert capsys.readouterr().out.strip() == "database schema at revision 0002 (the newest)"
    assert main(["db", "current"]) == 0
    out = capsys.readouterr().out
    assert "0002 (the newest)" in out and "@" not in out  # the URL (and its password) is never printed
