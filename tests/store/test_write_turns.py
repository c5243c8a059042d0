"""Worker processes sharing one SQLite file take turns writing issued cards (store/writelock.py): a writer waits
for the turn instead of sleeping in SQLite's busy handler, and gives up after its wait as a busy database would."""

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cds_service.store import Database, IssuedCard, IssuedCards
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
    turns = issued._turns
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
    assert issued._turns is None
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
