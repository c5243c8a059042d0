"""Durable storage: feedback on cards."""

from .feedback import FeedbackRecord, FeedbackStore

__all__ = ["FeedbackRecord", "FeedbackStore"]
