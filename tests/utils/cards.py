"""Reading response cards in tests: by rule id (source.topic.code)."""

from typing import Any

__all__ = ["by_topic", "shown_rows", "topics"]

EXTENSION = "org.her2-cds.card"


def topics(cards: list[dict[str, Any]]) -> list[str]:
    return [c["source"]["topic"]["code"] for c in cards]


def by_topic(cards: list[dict[str, Any]], code: str) -> dict[str, Any]:
    (card,) = [c for c in cards if c["source"]["topic"]["code"] == code]
    return card


def shown_rows(cards: list[dict[str, Any]]) -> set[str]:
    """Knowledge rows shown as cards, or listed among the further matching options inside a card."""
    return set(topics(cards)) | {m for c in cards for m in c.get("extension", {}).get(EXTENSION, {}).get("rules", [])}
