"""What the hook path reports once it has its cards: card metrics and the issued-cards record.

A card is recorded before it is answered (card uuid, service, rules, knowledge version, indicator, time; never
patient data), because feedback is only accepted for recorded cards. If the database cannot record them, the
cards are still answered: decision support, safety warnings among it, must not depend on the audit database,
and the readiness probe already takes a replica whose database is down out of rotation. The loss is not silent:
an ERROR log and her2_cds_cards_unrecorded_total, and feedback on those cards is later refused as unknown."""

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
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
    engine = getattr(request.app.state, "engine", None)
    engine_version: str | None = engine.version.label if engine is not None else None
    issued = []
    for card in cards:
        topic = card.source.topic
        about = (card.extension or {}).get(CARD_EXTENSION, {})
        # The card's topic first, then every other row it shows (lines folded into it, rows it names).
        shown = about.get("rules", [])
        rules = tuple(dict.fromkeys([*((topic.code,) if topic is not None and topic.code else ()), *shown]))
        version = about.get("knowledgeVersion") or engine_version
        issued.append(IssuedCard(card.uuid, service_id, rules, card.indicator, now, version))
        CARDS.labels(service_id, card.indicator, rules[0] if rules else "none").inc()
    store: IssuedCards | None = getattr(request.app.state, "issued_cards", None)
    if store is None or not issued:
        return
    budget = float(request.app.state.settings.hook_deadline_seconds)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            # record() is idempotent: a try that timed out here but committed later does no harm.
            async with asyncio.timeout(budget / ATTEMPTS):  # no extra task per call, unlike wait_for
                await _group_for(request.app.state, store).record(issued)
            return
        except Exception as exc:  # noqa: BLE001 - the answer matters more than its record
            problem = type(exc).__name__
        if attempt < ATTEMPTS:
            log.warning("issued cards not recorded (%s); trying again", problem)
    UNRECORDED.labels(service_id).inc(len(issued))
    log.error("%d issued cards not recorded (%s): feedback on them will be refused", len(issued), problem)


class GroupCommit:
    """Group commit: the issued cards of calls answered meanwhile go into the database in one transaction.

    A commit costs the same for one row as for forty, and SQLite takes one writer at a time, so one commit per
    call capped a server at the database's commit rate whatever its cores. Each call still waits until its own
    cards are committed (feedback may follow at once, to any worker); a call alone is written at once."""

    def __init__(self, store: IssuedCards, loop: asyncio.AbstractEventLoop) -> None:
        self.store = store
        self.loop = loop
        self._pending: list[tuple[list[IssuedCard], asyncio.Future[None]]] = []
        self._writing = False
        self._task: asyncio.Task[None] | None = None

    async def record(self, cards: list[IssuedCard]) -> None:
        done: asyncio.Future[None] = self.loop.create_future()
        self._pending.append((cards, done))
        if not self._writing:
            self._writing = True
            self._task = self.loop.create_task(self._write_all())  # referenced: a task nobody holds may vanish
        await done

    async def _write_all(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    await asyncio.to_thread(self.store.record, [card for cards, _ in batch for card in cards])
                except Exception as exc:  # noqa: BLE001 - each waiting call logs it
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                else:
                    for _, done in batch:
                        if not done.done():  # a call cancelled meanwhile (client gone) waits no more
                            done.set_result(None)
        finally:
            self._writing = False


def _group_for(state: Any, store: IssuedCards) -> GroupCommit:
    """One group per store and event loop (tests run several apps and loops in one process)."""
    loop = asyncio.get_running_loop()
    group: GroupCommit | None = getattr(state, "issued_group", None)
    if group is None or group.store is not store or group.loop is not loop:
        group = state.issued_group = GroupCommit(store, loop)
    return group
