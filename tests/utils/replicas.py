"""Replicas starting together: several `Database(url)` opened at the same moment from threads."""

from threading import Barrier, Thread

from cds_service.store import Database


def open_together(database_url: str, count: int = 4) -> tuple[list[Database], list[Exception]]:
    """The databases that opened, and the exceptions of those that did not (the caller closes the former)."""
    start, opened, failures = Barrier(count), [], []

    def open_database() -> None:
        start.wait()
        try:
            opened.append(Database(database_url))
        except Exception as exc:  # noqa: BLE001 - returned for the test to assert on
            failures.append(exc)

    threads = [Thread(target=open_database) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return opened, failures
