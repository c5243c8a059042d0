"""Service response: cards, suggestions, actions and links (CDS Hooks 2.0 §CDS Service Response).

Optional fields default to None and are dropped on output; lists, when given, must be non-empty,
because the spec forbids null and empty values on the wire."""

import os
import re
from typing import Any, Literal

from pydantic import AnyUrl, BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Action",
    "Card",
    "Coding",
    "HookResponse",
    "Link",
    "OverrideReason",
    "Source",
    "Suggestion",
    "dump",
]

_RESOURCE_ID = re.compile(r"^[A-Za-z]+/[A-Za-z0-9\-.]{1,64}$")


def _new_uuid() -> str:
    """A random (version 4) UUID, as uuid.uuid4() makes it, formatted directly: every card and suggestion
    takes one, and the UUID object in between is most of uuid4's cost."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Coding(_Strict):
    system: str = Field(min_length=1)
    code: str = Field(min_length=1)
    display: str | None = Field(default=None, min_length=1)


class OverrideReason(Coding):
    display: str = Field(min_length=1)


class Source(_Strict):
    label: str = Field(min_length=1)
    url: AnyUrl | None = None
    icon: AnyUrl | None = None
    topic: Coding | None = None


class Action(_Strict):
    type: Literal["create", "update", "delete"]
    description: str = Field(min_length=1)
    resource: dict[str, Any] | None = None
    resourceId: str | None = None

    @model_validator(mode="after")
    def _target(self) -> "Action":
        if self.type in ("create", "update"):
            if not self.resource or not self.resource.get("resourceType"):
                raise ValueError(f"{self.type} action needs a FHIR resource")
        else:
            if self.resource is not None or not self.resourceId or not _RESOURCE_ID.match(self.resourceId):
                raise ValueError("delete action needs resourceId 'Type/id' and no resource")
        return self


class Suggestion(_Strict):
    label: str = Field(min_length=1)
    uuid: str = Field(default_factory=_new_uuid)
    isRecommended: bool | None = None
    actions: list[Action] | None = Field(default=None, min_length=1)


class Link(_Strict):
    label: str = Field(min_length=1)
    url: AnyUrl
    type: Literal["absolute", "smart"]
    appContext: str | None = Field(default=None, min_length=1)
    autolaunchable: bool | None = None

    @model_validator(mode="after")
    def _app_context_only_for_smart(self) -> "Link":
        if self.appContext is not None and self.type != "smart":
            raise ValueError("appContext is only valid for smart links")
        return self


class Card(_Strict):
    uuid: str = Field(default_factory=_new_uuid)
    summary: str = Field(min_length=1, max_length=139)
    detail: str | None = Field(default=None, min_length=1)
    indicator: Literal["info", "warning", "critical"]
    source: Source
    suggestions: list[Suggestion] | None = Field(default=None, min_length=1)
    selectionBehavior: Literal["at-most-one", "any"] | None = None
    overrideReasons: list[OverrideReason] | None = Field(default=None, min_length=1)
    links: list[Link] | None = Field(default=None, min_length=1)
    # CDS Hooks 2.0 §Extensions: a pre-coordinated object under a namespaced key.
    extension: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _selection(self) -> "Card":
        if self.suggestions and self.selectionBehavior is None:
            raise ValueError("selectionBehavior is required when suggestions are present")
        if self.selectionBehavior is not None and not self.suggestions:
            raise ValueError("selectionBehavior without suggestions")
        recommended = sum(1 for s in self.suggestions or () if s.isRecommended)
        if self.selectionBehavior == "at-most-one" and recommended > 1:
            raise ValueError("at-most-one allows at most one recommended suggestion")
        return self


class HookResponse(_Strict):
    cards: list[Card]
    systemActions: list[Action] | None = Field(default=None, min_length=1)


def dump(model: BaseModel) -> dict[str, Any]:
    """Wire JSON: optional fields left unset are omitted, never sent as null."""
    return model.model_dump(mode="json", exclude_none=True)
