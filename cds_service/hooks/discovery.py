"""Discovery response (CDS Hooks 2.0 §Discovery)."""

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DiscoveryResponse", "ServiceDescriptor"]


class ServiceDescriptor(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    hook: str = Field(min_length=1)
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    id: str = Field(pattern=r"^[A-Za-z0-9\-_.]+$")
    prefetch: dict[str, str] | None = Field(default=None, min_length=1)
    usageRequirements: str | None = Field(default=None, min_length=1)


class DiscoveryResponse(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    services: list[ServiceDescriptor]
