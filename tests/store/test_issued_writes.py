"""The issued-cards write path (a prepared INSERT on a kept driver connection), on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from cds_service.store import Database, IssuedCard, IssuedCards
from cds_service.store.summary import rule_summary
from cds_service.store.tables import IssuedCardRow

MOMENT = datetime(2026, 12, 1, 12, 30, 15, 123456, tzinfo=UTC)
VERSION = "2026-12-01+d7dbccf3ffa3"


def card(uuid: str, rules: tuple[str, ...] = ("T3", "K1"), at: datetime = MOMENT) -> IssuedCard:
    return IssuedCard(uuid, "her2-patient-view", rules, "warning", at, VERSION)


def checked_out(database: Database) -> int:
    pool = database.engine.pool
    assert isinstance(pool, sa.pool.QueuePool)  # a file or a server: a pool that hands out connections
    return pool.checkedout()


def test_rows_are_stored_exactly_as_sqlalchemy_stores_them(database_url: str) -> None:
    """The fast path writes the same JSON text and time encoding as an ORM insert, so reads and the rule summary
    (which groups by the rules' text) see one kind of row."""
    database = Database(database_url)
    IssuedCards(database).record([card("fast")])
    with database.engine.begin() as connection:
        connection.execute(
            sa.insert(IssuedCardRow),
            {
                "card_uuid": "core",
                "service_id": "her2-patient-view",
                "rules": ["T3", "K1"],
                "indicator": "warning",
                "issued_at": MOMENT,
                "knowledge_version": VERSION,
            },
        )
    table = IssuedCardRow.__table__
    stored = sa.select(table.c.card_uuid, sa.cast(table.c.rules, sa.Text), sa.cast(table.c.issued_at, sa.Text))
    with database.engine.connect() as connection:
        rows = {uuid: (rules, at) for uuid, rules, at in connection.execute(stored)}
    found = IssuedCards(database).find("fast")
    summary = rule_summary(database)
    database.close()

    assert rows["fast"] == rows["core"]
    assert found == card("fast")
    assert (summary["T3"].issued, summary["K1"].issued) == (2, 2)


def test_a_batch_with_cards_already_recorded_records_the_rest_once(database_url: str) -> None:
    database = Database(database_url)
    issued = IssuedCards(database)
    later = MOMENT + timedelta(seconds=1)
    issued.record([card("a")])
    issued.record([card("a"), card("b", ("T1",), later), card("c", (), later)])

    assert [issued.find(u) for u in ("a", "b", "c")] == [card("a"), card("b", ("T1",), later), card("c", (), later)]
    assert issued.count() == 3
    database.close()


def test_closing_the_database_gives_the_kept_connection_back(database_url: str) -> None:
    database = Database(database_url)
    issued = IssuedCards(database)
    issued.record([card("a")])
    assert checked_out(database) == 1  # kept for the next write

    database.close()
    assert checked_out(database) == 0


def test_a_connection_the_server_closed_fails_one_write_and_the_next_gets_a_new_one(database_url: str) -> None:
    """What record_cards' second try relies on: the broken connection is dropped, not kept or pooled."""
    if not database_url.startswith("postgresql"):
        pytest.skip("an embedded SQLite file has no server to close connections")
    database = Database(database_url)
    issued = IssuedCards(database)
    issued.record([card("before")])
    admin = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    with admin.begin() as connection:
        closed = connection.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    admin.dispose()
    assert closed >= 1

    with pytest.raises(sa.exc.DBAPIError):
        issued.record([card("lost")])
    issued.record([card("after")])

    assert issued.find("after") == card("after") and issued.find("lost") is None
    assert checked_out(database) == 1
    database.close()


def test_a_write_after_the_database_closed_fails_without_taking_a_connection(database_url: str) -> None:
    database = Database(database_url)
    issued = IssuedCards(database)
    issued.record([card("a")])
    database.close()

    with pytest.raises(RuntimeError, match="closed"):
        issued.record([card("late")])
    assert checked_out(database) == 0


def test_a_connection_kept_past_its_quiet_spell_is_dropped_not_pooled(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a quiet spell the server may have closed it: giving it back would make the pool's reset log a false
    alarm, so it is invalidated and the next write opens another."""
    from cds_service.store import issued as issued_module

    database = Database(database_url)
    issued = IssuedCards(database)
    monkeypatch.setattr(issued_module, "KEEP_IDLE_SECONDS", -1.0)  # every write finds the last one's connection idle
    resets: list[object] = []
    sa.event.listen(database.engine, "reset", lambda connection, record, *rest: resets.append(connection))
    issued.record([card("a")])
    first = issued._kept
    assert first is not None and first.dbapi_connection is not None
    issued.record([card("b")])

    assert issued._kept is not first and first.dbapi_connection is None  # invalidated: its driver connection closed
    assert resets == []  # never handed back through the pool's reset
    assert [issued.find(u) for u in ("a", "b")] == [card("a"), card("b")]
    assert checked_out(database) == 1
    database.close()
