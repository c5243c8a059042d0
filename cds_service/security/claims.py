"""The client JWT's payload, typed strictly (CDS Hooks 2.0 §Trusting CDS Clients).

PyJWT checks `exp` with `int(...)`, so `"exp": "99999999999"` would pass it; the claims are therefore
validated here first: numbers must be JSON numbers, strings JSON strings, and every required claim present."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict

__all__ = ["ClientClaims"]

# JSON numbers only: no strings, no booleans, no NaN or infinity.
_Int = Annotated[int, Strict(), Field(ge=0, le=253402300799)]
_Float = Annotated[float, Strict(), Field(allow_inf_nan=False, ge=0, le=253402300799)]
Seconds = _Int | _Float
Text = Annotated[str, Strict(), Field(min_length=1, max_length=2048)]


class ClientClaims(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    iss: Text
    aud: Text | Annotated[list[Text], Field(min_length=1, max_length=16)]
    exp: Seconds
    iat: Seconds
    jti: Annotated[str, Strict(), Field(min_length=1, max_length=256)]
    # Not required by CDS Hooks 2.0 (nor by 1.0 or the 3.0 ballot); typed when present.
    sub: Text | None = None
    nbf: Seconds | None = None
    tenant: Text | None = None
