"""Worker processes sharing one SQLite file take turns writing issued cards (store/writelock.py): a writer waits
for the turn instead of sleeping in SQLite's busy handler, and gives up after its wait as a busy database would."""

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cds_service.hooks.feedback import Feedback
from cds_service.store import Database, FeedbackStore, IssuedCard, IssuedCards, JwksCache, ReplayGuard
from cds_service.store.writelock import WriteTurns

pytestmark = pytest.mark.skipif(not WriteTurns.supported(), reason="no flock on this platform")

HOLD = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.readline()  # until the test lets go
"""


@contextmanager
def held_elsewhere(lock_path: Path) -> Iterator[None]:
    """Another process holding the turn until the block ends."""
    with subprocess.Popen(
        [sys.executable, "-c", HOLD, str(lock_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as other:
        assert other.stdin is not None and other.stdout is not None
        try:
            assert other.stdout.readline().strip() == "held"
            yield
        finally:
            other.stdin.close()
            other.wait(timeout=10)


def card(uuid: str) -> IssuedCard:
    return IssuedCard(uuid, "her2-patient-view", ("T3",), "info", datetime(2026, 12, 2, tzinfo=UTC), None)


def test_a_writer_waits_for_another_process_and_gets_the_turn_once_it_is_given_up(tmp_path: Path) -> None:
    turns = WriteTurns(str(tmp_path / "cards.sqlite3"), wait_seconds=0.2)
    with held_elsewhere(turns.path):
        with pytest.raises(TimeoutError, match="no write turn"), turns.held():
            pass
    with turns.held():  # the other process is gone: at once
        pass
    turns.close()


def test_issued_cards_on_a_sqlite_file_write_only_in_their_turn(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'cards.sqlite3'}")
    issued = IssuedCards(database)
    turns = database.turns
    assert turns is not None and turns.path == tmp_path / "cards.sqlite3-writers.lock"
    turns.wait_seconds = 0.2
    with held_elsewhere(turns.path):
        with pytest.raises(TimeoutError):
            issued.record([card("while-held")])
    issued.record([card("after")])
    assert issued.find("while-held") is None
    assert issued.find("after") is not None
    assert issued.count() == 1
    database.close()


def test_a_database_in_memory_takes_no_turns(tmp_path: Path) -> None:
    database = Database("sqlite://")
    issued = IssuedCards(database)
    assert database.turns is None
    issued.record([card("a")])
    assert issued.count() == 1
    database.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_worker_does_not_share_its_parents_turn(tmp_path: Path) -> None:
    """uvicorn forks its workers: a lock file opened before the fork would be one lock for both processes."""
    turns = WriteTurns(str(tmp_path / "cards.sqlite3"), wait_seconds=0.2)
    with turns.held():  # the descriptor is open in the parent before the fork
        pass
    ready_r, ready_w = os.pipe()
    done_r, done_w = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipes
        try:
            with turns.held():
                os.write(ready_w, b"1")
                os.read(done_r, 1)
        finally:
            os._exit(0)
    try:
        assert os.read(ready_r, 1) == b"1"
        with pytest.raises(TimeoutError), turns.held():
            pass
    finally:
        os.write(done_w, b"1")
        os.waitpid(child, 0)
        for fd in (ready_r, ready_w, done_r, done_w):
            os.close(fd)
    with turns.held():
        pass
    turns.close()


def test_threads_of_one_process_take_turns_too(tmp_path: Path) -> None:
    """A flock is per open file: the writer thread, the JWT replay check's threads and feedback share one."""
    turns = WriteTurns(str(tmp_path / "cards.sqlite3"), wait_seconds=0.2)
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with turns.held():
            taken.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert taken.wait(10)
        with pytest.raises(TimeoutError), turns.held():
            pass
    finally:
        release.set()
        holder.join(10)
    with turns.held():
        pass
    turns.close()


def test_every_store_writes_in_its_turn(tmp_path: Path) -> None:
    """Issued cards, the JWT replay record, fetched JWK Sets and feedback: no write of the service's own
    meets SQLite's busy handler while another worker writes."""
    database = Database(f"sqlite:///{tmp_path / 'cards.sqlite3'}")
    assert database.turns is not None
    database.turns.wait_seconds = 0.2
    issued = IssuedCards(database)
    issued.record([card("known")])
    replay = ReplayGuard(database, grace_seconds=60)
    assert replay.first_use("https://ehr.example", "jti-0", 4102444800.0)  # its sweep of expired rows done too
    jwks = JwksCache(database)
    feedback = FeedbackStore(database)
    item = Feedback.model_validate(
        {"card": "known", "outcome": "overridden", "outcomeTimestamp": "2026-12-02T10:00:00Z"}
    )
    with held_elsewhere(database.turns.path):
        for write in (
            lambda: issued.record([card("other")]),
            lambda: replay.first_use("https://ehr.example", "jti-1", 4102444800.0),
            lambda: jwks.put("https://ehr.example/jwks", [{"kty": "EC"}], 1.0),
            lambda: feedback.add("her2-patient-view", [item]),
        ):
            with pytest.raises(TimeoutError):
                write()
    assert replay.first_use("https://ehr.example", "jti-1", 4102444800.0)
    jwks.put("https://ehr.example/jwks", [{"kty": "EC"}], 1.0)
    assert feedback.add("her2-patient-view", [item]) == 1
    assert issued.count() == 1 and feedback.count() == 1
    assert (cached := jwks.get("https://ehr.example/jwks")) is not None and cached.keys == [{"kty": "EC"}]
    database.close()
