"""The allowlist of CDS clients: issuer, where its keys come from, and what else to require."""

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..datafiles import load_model

__all__ = ["TrustedClient", "TrustedClientsFile", "load_trusted_clients"]


class TrustedClient(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    iss: str = Field(min_length=1)
    # JWK Set URLs this issuer may name in the `jku` header; any other jku is refused, never fetched.
    jku: tuple[str, ...] = ()
    # Keys exchanged out of band (used when the token has no jku).
    jwks: dict[str, Any] | None = None
    tenant: str | None = None
    # Extra accepted `aud` values, for EHRs whose audience is configured by hand (e.g. Epic).
    audiences: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _has_keys(self) -> "TrustedClient":
        if not self.jku and not self.jwks:
            raise ValueError("needs jku URLs or an out-of-band jwks")
        if self.jwks is not None and not isinstance(self.jwks.get("keys"), list):
            raise ValueError("jwks must be a JWK Set with a keys array")
        return self


class TrustedClientsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    clients: list[TrustedClient] = Field(min_length=1)


def load_trusted_clients(path: Path) -> dict[str, TrustedClient]:
    return {client.iss: client for client in load_model(path, TrustedClientsFile).clients}
