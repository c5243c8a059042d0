"""Turns for the processes writing one SQLite file: an OS file lock beside it, held around each transaction.

SQLite takes one writer at a time, and a writer that finds the file locked sleeps in SQLite's busy handler in
steps of 1, 2, 5, 10 ... ms, whatever the other writer's transaction takes (a tenth of a millisecond for a batch
of issued cards). With two workers recording every call's cards, those sleeps left the workers' CPUs idle a
quarter of the time under load. A process waiting here instead gets the lock as soon as the other gives it up,
so it never meets SQLite's busy handler. Where the platform has no flock (Windows), SQLite's own waiting stays."""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["WriteTurns"]

# A write waits for its turn as long as SQLite would wait for the file (busy_timeout in database.py).
WAIT_SECONDS = 30.0
# Between tries while another process writes: far below SQLite's first sleep (1 ms), and a try is one system call.
POLL_SECONDS = 0.0002


class WriteTurns:
    """The lock file `<database>-writers.lock` (never the database file itself: SQLite's own locks live there)."""

    def __init__(self, database_path: str, wait_seconds: float = WAIT_SECONDS) -> None:
        self.path = Path(f"{database_path}-writers.lock")
        self.wait_seconds = wait_seconds
        self._fd: int | None = None
        self._pid = 0

    @staticmethod
    def supported() -> bool:
        return fcntl is not None

    @contextmanager
    def held(self) -> Iterator[None]:
        """The turn for one transaction. Raises TimeoutError (the batch fails and is retried, as a busy SQLite
        would fail) if another process kept it longer than wait_seconds. One thread per process writes (the
        caller's own lock): a flock is per open file, so it does not exclude the threads of one process."""
        fd = self._file()
        deadline = time.monotonic() + self.wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no write turn on the database within {self.wait_seconds:g} s") from None
                time.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None and self._pid == os.getpid():
            os.close(fd)

    def _file(self) -> int:
        # Opened in the process that writes: a descriptor inherited over a fork shares its lock with the parent,
        # so the two would not exclude each other.
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd
