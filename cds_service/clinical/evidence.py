"""The unit of every card's basis: which resource, which date, what it said."""

from typing import NamedTuple

__all__ = ["Evidence"]


class Evidence(NamedTuple):
    """A NamedTuple, not a frozen dataclass: one is built for every result, diagnosis and drug record read, and
    a frozen dataclass costs about twice as much to build. Read by field name only."""

    reference: str  # e.g. Observation/123
    date: str | None  # YYYY-MM-DD when the record has one
    label: str  # the test or drug as the record names it
    value: str  # the result or status as recorded
