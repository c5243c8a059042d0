"""Feedback request (CDS Hooks 2.0 §Feedback), with invariants cds-fb-1..3."""

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

__all__ = ["AcceptedSuggestion", "Feedback", "FeedbackRequest", "OverrideReasonFeedback"]


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class ReasonCoding(_Lenient):
    # Clients (the Sandbox among them) send the chosen reason without display; accept it.
    code: str = Field(min_length=1)
    system: str | None = None
    display: str | None = None


class OverrideReasonFeedback(_Lenient):
    reason: ReasonCoding | None = None
    userComment: str | None = None

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
    acceptedSuggestions: list[AcceptedSuggestion] | None = None
    overrideReason: OverrideReasonFeedback | None = None
    outcomeTimestamp: AwareDatetime
    extension: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _accepted_needs_suggestions(self) -> "Feedback":
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            raise ValueError("acceptedSuggestions is required when outcome is accepted")
        return self


class FeedbackRequest(_Lenient):
    feedback: list[Feedback] = Field(min_length=1)
