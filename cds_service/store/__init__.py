"""Durable storage in one database: feedback on cards, issued cards, and state shared by replicas."""

from .database import Database
from .feedback import FeedbackRecord, FeedbackStore, UnknownCards
from .issued import IssuedCard, IssuedCards
from .shared import CachedJwks, JwksCache, ReplayGuard

__all__ = [
    "CachedJwks",
    "Database",
    "FeedbackRecord",
    "FeedbackStore",
    "IssuedCard",
    "IssuedCards",
    "JwksCache",
    "ReplayGuard",
    "UnknownCards",
]
