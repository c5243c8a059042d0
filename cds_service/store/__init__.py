"""Durable storage in one database: feedback on cards, issued cards, and state shared by replicas."""

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from .database import Database
from .feedback import FeedbackRecord, FeedbackStore, UnknownCards
from .issued import IssuedCard, IssuedCards
from .shared import CachedJwks, JwksCache, ReplayGuard
from .writelock import NoWriteTurn

__all__ = [
    "CachedJwks",
    "Database",
    "FeedbackRecord",
    "FeedbackStore",
    "IssuedCard",
    "IssuedCards",
    "JwksCache",
    "ReplayGuard",
    "UNAVAILABLE",
    "UnknownCards",
]

# The database cannot be used for now (down, unreachable, locked past the wait, pool exhausted): a request that
# needs it is answered 503, not 500. Other database errors are bugs and stay 500s.
UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, InterfaceError, PoolTimeout, NoWriteTurn)
