"""Turns for the processes and threads writing one SQLite file: an OS file lock beside it, around each write.

SQLite takes one writer at a time, and a writer that finds the file locked sleeps in SQLite's busy handler in
steps of 1, 2, 5, 10 ... ms, whatever the other writer's transaction takes (a tenth of a millisecond for a batch
of issued cards). With two workers recording every call's cards, those sleeps left the workers' CPUs idle a
quarter of the time under load. A process waiting here instead gets the lock as soon as the other gives it up,
so it never meets SQLite's busy handler. Where the platform has no flock (Windows), SQLite's own waiting stays."""

import os
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["NoWriteTurn", "WriteTurns"]

# A write waits for its turn as long as SQLite would wait for the file (busy_timeout in database.py).
WAIT_SECONDS = 30.0
# Between tries while another process writes: far below SQLite's first sleep (1 ms), and a try is one system call.
POLL_SECONDS = 0.0002


class NoWriteTurn(TimeoutError):
    """Another thread or process kept the write turn longer than the wait: the database is unavailable for now."""


class WriteTurns:
    """The lock file `<database>-writers.lock` (never the database file itself: SQLite's own locks live there)."""

    def __init__(self, database_path: str, wait_seconds: float = WAIT_SECONDS) -> None:
        self.path = Path(f"{database_path}-writers.lock")
        self.wait_seconds = wait_seconds
        self._fd: int | None = None
        # A flock is held per open file, so the threads of one process (the issued-cards writer, the JWT
        # replay check's threads, feedback) take their turns by this lock first.
        self._threads = threading.Lock()
        _ALL.add(self)

    @staticmethod
    def supported() -> bool:
        return fcntl is not None

    @contextmanager
    def held(self) -> Iterator[None]:
        """The turn for one transaction. Raises NoWriteTurn, a TimeoutError (the write fails, as on a database
        busy for that long), if another thread or process kept it longer than wait_seconds. Not re-entrant: a
        transaction holding the turn never asks for it again."""
        deadline = time.monotonic() + self.wait_seconds
        if not self._threads.acquire(timeout=self.wait_seconds):
            raise NoWriteTurn(f"no write turn on the database within {self.wait_seconds:g} s")
        try:
            fd = self._file()
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise NoWriteTurn(f"no write turn on the database within {self.wait_seconds:g} s") from None
                    time.sleep(POLL_SECONDS)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def close(self) -> None:
        with self._threads:
            fd, self._fd = self._fd, None
            if fd is not None:
                os.close(fd)

    def _file(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        return self._fd

    def _forked(self) -> None:
        """In a forked child: the inherited descriptor shares its lock with the parent (the two would not exclude
        each other), and the thread lock may have been held by a thread the child does not have."""
        self._fd = None
        self._threads = threading.Lock()


_ALL: "weakref.WeakSet[WriteTurns]" = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for turns in list(_ALL):
        turns._forked()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
