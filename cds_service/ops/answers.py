"""What the hook path reports once it has its cards: card metrics and the issued-cards record.

A card is recorded before it is answered (card uuid, service, rules, knowledge version, indicator, time; never
patient data), because feedback is only accepted for recorded cards. If the database cannot record them, the
cards are still answered: decision support, safety warnings among it, must not depend on the audit database,
and the readiness probe already takes a replica whose database is down out of rotation. The loss is not silent:
an ERROR log and her2_cds_cards_unrecorded_total, and feedback on those cards is later refused as unknown."""

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from fastapi import Request

from ..clinical.render import EXTENSION as CARD_EXTENSION
from ..hooks.response import Card
from ..store.issued import IssuedCard, IssuedCards
from .metrics import CARDS, UNRECORDED

__all__ = ["GroupCommit", "record_cards"]

log = logging.getLogger("cds_service.ops")

# A transient failure (a connection the server closed, SQLite busy past its timeout) gets one more try.
ATTEMPTS = 2


async def record_cards(request: Request, service_id: str, cards: Sequence[Card]) -> None:
    """Never fails the hook; waits at most the hook deadline for the database (see the module's note)."""
    now = datetime.now(UTC)
    state = request.app.state
    issued = []
    for card in cards:
        topic = card.source.topic
        about = (card.extension or {}).get(CARD_EXTENSION, {})
        # The card's topic first, then every other row it shows (lines folded into it, rows it names).
        shown = about.get("rules", [])
        rules = tuple(dict.fromkeys([*((topic.code,) if topic is not None and topic.code else ()), *shown]))
        version = about.get("knowledgeVersion") or _engine_version(state)
        issued.append(IssuedCard(card.uuid, service_id, rules, card.indicator, now, version))
        CARDS.labels(service_id, card.indicator, rules[0] if rules else "none").inc()
    store: IssuedCards | None = getattr(state, "issued_cards", None)
    if store is None or not issued:
        return
    budget = float(state.settings.hook_deadline_seconds)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            # record() is idempotent: a try that timed out here but committed later does no harm.
            async with asyncio.timeout(budget / ATTEMPTS):  # no extra task per call, unlike wait_for
                await _group_for(state, store).record(issued)
            return
        except Exception as exc:  # noqa: BLE001 - the answer matters more than its record
            problem = type(exc).__name__
        if attempt < ATTEMPTS:
            log.warning("issued cards not recorded (%s); trying again", problem)
    UNRECORDED.labels(service_id).inc(len(issued))
    log.error("%d issued cards not recorded (%s): feedback on them will be refused", len(issued), problem)


def _engine_version(state: Any) -> str | None:
    """For a card that does not say which knowledge made it."""
    engine = getattr(state, "engine", None)
    return engine.version.label if engine is not None else None


class GroupCommit:
    """Group commit: the issued cards of calls answered meanwhile go into the database in one transaction.

    A commit costs the same for one row as for forty, and SQLite takes one writer at a time, so one commit per
    call capped a server at the database's commit rate whatever its cores. Each call still waits until its own
    cards are committed (feedback may follow at once, to any worker); a call alone is written at once (from
    the loop's next turn).

    The hand-over is one queue put to the writer thread and one wake-up of the event loop per batch, which then
    resolves the futures of all the batch's calls: no task, thread-pool future or context copy per call."""

    def __init__(self, store: IssuedCards, loop: asyncio.AbstractEventLoop) -> None:
        self.store = store
        self.loop = loop
        self._pending: list[tuple[list[IssuedCard], asyncio.Future[None]]] = []
        self._writing = False

    async def record(self, cards: list[IssuedCard]) -> None:
        done: asyncio.Future[None] = self.loop.create_future()
        self._pending.append((cards, done))
        if not self._writing:
            # From the loop's next turn: the calls that finish in this turn join the batch, rather than follow
            # in a second one (and the writer does not contend for the GIL with their evaluation meanwhile).
            self._writing = True
            self.loop.call_soon(self._write_pending)
        await done

    def _write_pending(self) -> None:
        """On the event loop: hands the calls waiting so far to the writer thread as one batch."""
        batch, self._pending = self._pending, []
        try:
            WRITER.submit(partial(self._write, batch))
        except Exception as exc:  # noqa: BLE001 - e.g. no thread can be started: these calls fail, later ones retry
            self._written(batch, exc)

    def _write(self, batch: list[tuple[list[IssuedCard], asyncio.Future[None]]]) -> None:
        """On the writer thread: one transaction for the batch, then one wake-up of the loop for all its calls."""
        error: Exception | None = None
        try:
            self.store.record([card for cards, _ in batch for card in cards])
        except Exception as exc:  # noqa: BLE001 - each waiting call logs it
            error = exc
        except BaseException as exc:  # the waiting calls must still be woken, or every later batch would wait too
            error = RuntimeError(f"issued-cards write interrupted: {type(exc).__name__}")
        try:
            self.loop.call_soon_threadsafe(self._written, batch, error)
        except RuntimeError:
            pass  # the loop closed meanwhile: no call is waiting any more

    def _written(self, batch: list[tuple[list[IssuedCard], asyncio.Future[None]]], error: Exception | None) -> None:
        """On the event loop: the batch's calls go on; calls that came meanwhile are the next batch."""
        for _, done in batch:
            if done.done():  # a call cancelled meanwhile (client gone, timed out) waits no more
                continue
            if error is None:
                done.set_result(None)
            else:
                done.set_exception(error)
        if self._pending:
            self._write_pending()
        else:
            self._writing = False


class WriterThread:
    """The thread that runs the writes of every group of the process, in the order they were handed over.

    A group has at most one batch in flight, so one thread is enough; started on first use, and again in a
    forked child (threads do not survive a fork). A daemon: a write cut short at exit had no answer waiting."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()

    def submit(self, job: Callable[[], None]) -> None:
        self._jobs.put(job)
        if self._thread is None or not self._thread.is_alive():
            with self._starting:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="issued-cards-writer", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                job()
            except Exception:  # a job reports its own errors; this is a bug, and the thread must go on
                log.exception("issued-cards writer job failed")


WRITER = WriterThread()


def _group_for(state: Any, store: IssuedCards) -> GroupCommit:
    """One group per store and event loop (tests run several apps and loops in one process)."""
    loop = asyncio.get_running_loop()
    group: GroupCommit | None = getattr(state, "issued_group", None)
    if group is None or group.store is not store or group.loop is not loop:
        group = state.issued_group = GroupCommit(store, loop)
    return group
