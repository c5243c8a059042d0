"""The database tables replicas share, on SQLite and on a real PostgreSQL server (no mocks)."""

import time
from datetime import UTC, datetime
from threading import Barrier, Thread

from cds_service.store import Database, IssuedCard, IssuedCards, JwksCache, ReplayGuard
from tests.utils.replicas import open_together

KEYS = [{"kty": "EC", "kid": "k1", "crv": "P-384", "x": "x", "y": "y"}]


def test_a_jti_is_accepted_once_across_two_engines_on_one_database(database_url: str) -> None:
    """Two engines stand for two replicas: the second sees what the first stored."""
    first, second = Database(database_url), Database(database_url)
    try:
        expires = time.time() + 300
        assert ReplayGuard(first, grace_seconds=60).first_use("https://ehr", "jti-1", expires)
        assert not ReplayGuard(second, grace_seconds=60).first_use("https://ehr", "jti-1", expires)
        assert ReplayGuard(second, grace_seconds=60).first_use("https://other-ehr", "jti-1", expires)
    finally:
        first.close()
        second.close()


def test_concurrent_replays_let_exactly_one_through(database_url: str) -> None:
    database = Database(database_url)
    guards = [ReplayGuard(database, grace_seconds=60) for _ in range(8)]
    start, results = Barrier(len(guards)), []

    def attempt(guard: ReplayGuard) -> None:
        start.wait()
        results.append(guard.first_use("https://ehr", "raced", time.time() + 300))

    threads = [Thread(target=attempt, args=(guard,)) for guard in guards]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    database.close()

    assert sorted(results) == [False] * 7 + [True]


def test_expired_jtis_are_swept(database_url: str) -> None:
    database = Database(database_url)
    guard = ReplayGuard(database, grace_seconds=0)
    assert guard.first_use("https://ehr", "old", time.time() - 10)

    fresh = ReplayGuard(database, grace_seconds=0)  # a new process sweeps on its first use
    assert fresh.first_use("https://ehr", "new", time.time() + 300)
    assert fresh.first_use("https://ehr", "old", time.time() + 300)  # swept, so no longer a replay
    database.close()


def test_jwks_cache_keeps_the_last_keys_when_a_fetch_fails(database_url: str) -> None:
    database, replica = Database(database_url), Database(database_url)
    cache, other_replica = JwksCache(database), JwksCache(replica)
    url = "https://ehr.example.org/jwks"
    assert cache.get(url) is None

    cache.put(url, None, 100.0)
    failed = other_replica.get(url)
    assert failed is not None and failed.keys is None and failed.failed_at == 100.0

    cache.put(url, KEYS, 200.0)
    cache.put(url, None, 300.0)
    latest = other_replica.get(url)
    assert latest is not None and (latest.keys, latest.fetched_at, latest.failed_at) == (KEYS, 200.0, 300.0)
    database.close()
    replica.close()


def test_issued_cards_carry_rule_and_indicator_and_nothing_about_the_patient(database_url: str) -> None:
    database = Database(database_url)
    issued = IssuedCards(database)
    moment = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    card = IssuedCard("card-1", "her2-patient-view", ("T1",), "warning", moment, "2026-12-01+d7dbccf3ffa3")
    issued.record([card])
    issued.record([card])  # a retry after a lost acknowledgement: no error, no second row

    assert issued.find("card-1") == card
    assert issued.find("card-2") is None
    assert issued.count() == 1
    with database.engine.connect() as connection:
        columns = {c["name"] for c in database.engine.dialect.get_columns(connection, "issued_cards")}
    database.close()
    assert columns == {"id", "card_uuid", "service_id", "rules", "indicator", "issued_at", "knowledge_version"}


def test_replicas_starting_together_all_create_or_find_the_tables(database_url: str) -> None:
    opened, failures = open_together(database_url)
    for database in opened:
        assert database.ping()
        database.close()

    assert not failures and len(opened) == 4
