"""What the hook path reports once it has its cards: card metrics and the issued-cards record."""

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from fastapi import Request

from ..clinical.render import EXTENSION as CARD_EXTENSION
from ..hooks.response import Card
from ..store.issued import IssuedCard, IssuedCards
from .metrics import CARDS

__all__ = ["record_cards"]

log = logging.getLogger("cds_service.ops")


async def record_cards(request: Request, service_id: str, cards: Sequence[Card]) -> None:
    """Never fails the hook: a card the database could not record is logged and still answered."""
    now = datetime.now(UTC)
    issued = []
    for card in cards:
        topic = card.source.topic
        # The card's topic first, then every other row it shows (lines folded into it, rows it names).
        shown = (card.extension or {}).get(CARD_EXTENSION, {}).get("rules", [])
        rules = tuple(dict.fromkeys([*((topic.code,) if topic is not None and topic.code else ()), *shown]))
        issued.append(IssuedCard(card.uuid, service_id, rules, card.indicator, now))
        CARDS.labels(service_id, card.indicator, rules[0] if rules else "none").inc()
    store: IssuedCards | None = getattr(request.app.state, "issued_cards", None)
    if store is None or not issued:
        return
    try:
        await asyncio.to_thread(store.record, issued)
    except Exception as exc:  # noqa: BLE001 - the answer matters more than its record
        log.warning("issued cards not recorded (%s)", type(exc).__name__)
