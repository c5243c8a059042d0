"""The unit of every card's basis: which resource, which date, what it said."""

from dataclasses import dataclass

__all__ = ["Evidence"]


@dataclass(frozen=True)
class Evidence:
    reference: str  # e.g. Observation/123
    date: str | None  # YYYY-MM-DD when the record has one
    label: str  # the test or drug as the record names it
    value: str  # the result or status as recorded
