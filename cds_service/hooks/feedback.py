"""Feedback request (CDS Hooks 2.0 §Feedback), with invariants cds-fb-1..3."""

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["MAX_FEEDBACK_ITEMS", "AcceptedSuggestion", "Feedback", "FeedbackRequest", "OverrideReasonFeedback"]

# A clinician answers one card at a time; a client batching a session's cards stays far below these.
MAX_FEEDBACK_ITEMS = 100
MAX_SUGGESTIONS = 20
MAX_CODE_CHARS = 256
MAX_COMMENT_CHARS = 4000


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class _Stored(BaseModel):
    # Stored as given: unknown fields are dropped rather than kept, so that size limits cannot be side-stepped.
    model_config = ConfigDict(extra="ignore", frozen=True)


class ReasonCoding(_Stored):
    # Clients (the Sandbox among them) send the chosen reason without display; accept it.
    code: str = Field(min_length=1, max_length=MAX_CODE_CHARS)
    system: str | None = Field(default=None, max_length=MAX_CODE_CHARS)
    display: str | None = Field(default=None, max_length=MAX_CODE_CHARS)


class OverrideReasonFeedback(_Stored):
    reason: ReasonCoding | None = None
    userComment: str | None = Field(default=None, max_length=MAX_COMMENT_CHARS)

    @model_validator(mode="after")
    def _reason_or_comment(self) -> "OverrideReasonFeedback":
        if self.reason is None and not self.userComment:
            raise ValueError("overrideReason needs a reason or a userComment")
        return self


class AcceptedSuggestion(_Lenient):
    id: str = Field(min_length=1, max_length=128)


class Feedback(_Lenient):
    card: str = Field(min_length=1, max_length=128)
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[AcceptedSuggestion] | None = Field(default=None, max_length=MAX_SUGGESTIONS)
    overrideReason: OverrideReasonFeedback | None = None
    outcomeTimestamp: AwareDatetime
    extension: dict[str, Any] | None = None

    @field_validator("outcomeTimestamp")
    @classmethod
    def _in_range(cls, value: datetime) -> datetime:
        # Stored as UTC: 0001-01-01T00:00+14:00 or 9999-12-31T23:59-14:00 have no UTC form (OverflowError).
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValueError("has no UTC equivalent (too close to the limits of the calendar)") from None

    @model_validator(mode="after")
    def _accepted_needs_suggestions(self) -> "Feedback":
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            raise ValueError("acceptedSuggestions is required when outcome is accepted")
        return self


class FeedbackRequest(_Lenient):
    feedback: list[Feedback] = Field(min_length=1, max_length=MAX_FEEDBACK_ITEMS)
