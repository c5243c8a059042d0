"""A real PostgreSQL server for the suite, from the `pgserver` wheel (binaries included, no system install).

As root, pgserver runs postgres as a system user `pgserver` it creates (postgres refuses to run as root).
The server listens on a Unix socket only, in a short /tmp folder (socket paths are limited to ~100 bytes)."""

import shutil
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def postgres_server() -> Iterator[Any]:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI) and falls back to /tmp.
        warnings.simplefilter("ignore")
        import pgserver

        folder = Path(tempfile.mkdtemp(prefix="her2pg-", dir="/tmp"))
        server = pgserver.get_server(folder / "data", cleanup_mode="delete")
    try:
        yield server
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def new_database(server: Any) -> str:
    """A fresh, empty database on the server, as a SQLAlchemy URL for the psycopg driver."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    server.psql(f"CREATE DATABASE {name};")
    return str(server.get_uri(name)).replace("postgresql://", "postgresql+psycopg://", 1)
