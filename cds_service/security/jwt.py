"""Verification of the client JWT sent as `Authorization: Bearer <jwt>` on every CDS Hooks call.

Any failure is one `Unauthorized`; the reason is logged (with iss and jti only), never returned."""

import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

import httpx
import jwt

from .trust import TrustedClient

__all__ = ["ClientVerifier", "Unauthorized"]

log = logging.getLogger("cds_service.security")

# Asymmetric algorithms only: CDS Hooks forbids `none` and shared-secret (HMAC) signatures.
ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})
LEEWAY_SECONDS = 60
JWKS_TTL_SECONDS = 300
# A token naming an unknown kid triggers at most one early refetch of its JWK Set per this interval,
# so forged tokens cannot make the service hammer a client's key server.
JWKS_REFRESH_INTERVAL_SECONDS = 60


class Unauthorized(Exception):
    pass


class ClientVerifier:
    def __init__(self, clients: Mapping[str, TrustedClient], http: httpx.AsyncClient, timeout: float) -> None:
        self._clients = clients
        self._http = http
        self._timeout = timeout
        self._jwks_cache: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self._seen_jti: dict[str, float] = {}

    async def verify(self, authorization: str | None, audience: str) -> dict[str, Any]:
        try:
            return await self._verify(authorization, audience)
        except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
            raise Unauthorized(f"invalid token ({type(exc).__name__}: {exc})") from None

    async def _verify(self, authorization: str | None, audience: str) -> dict[str, Any]:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("no bearer token")
        token = token.strip()
        header = jwt.get_unverified_header(token)
        if header.get("alg") not in ALGORITHMS:
            raise Unauthorized(f"algorithm {header.get('alg')!r} not accepted")
        if header.get("typ") != "JWT" or not header.get("kid"):
            raise Unauthorized("header needs typ JWT and kid")
        unverified = jwt.decode(token, options={"verify_signature": False})
        client = self._clients.get(str(unverified.get("iss")))
        if client is None:
            raise Unauthorized("issuer not trusted")

        key = await self._key(client, header)
        claims: dict[str, Any] = jwt.decode(
            token,
            key=key,
            algorithms=[header["alg"]],
            audience=[audience, *client.audiences],
            issuer=client.iss,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "aud", "exp", "iat", "jti"]},
        )
        if client.tenant is not None and claims.get("tenant") != client.tenant:
            raise Unauthorized("tenant does not match")
        self._once(str(claims["jti"]), float(claims["exp"]))
        log.debug("client verified iss=%s jti=%s", client.iss, claims["jti"])
        return claims

    def _once(self, jti: str, expires: float) -> None:
        now = time.time()
        for seen, until in list(self._seen_jti.items()):
            if until + LEEWAY_SECONDS < now:
                del self._seen_jti[seen]
        if jti in self._seen_jti:
            raise Unauthorized("jti replayed")
        self._seen_jti[jti] = expires

    async def _key(self, client: TrustedClient, header: Mapping[str, Any]) -> Any:
        jku = header.get("jku")
        if jku is not None and jku not in client.jku:
            if client.jwks is None:
                raise Unauthorized("jku not on the issuer's allowlist")
            jku = None  # never fetched: the keys exchanged out of band decide
        if jku is None and client.jwks is None:
            raise Unauthorized("no jku and no out-of-band keys for this issuer")
        keys = await self._jwks(jku, refresh=False) if jku else client.jwks["keys"]  # type: ignore[index]
        found = _find(keys, header["kid"])
        if found is None and jku and self._may_refresh(jku):  # keys may have rotated
            found = _find(await self._jwks(jku, refresh=True), header["kid"])
        if found is None:
            raise Unauthorized("kid not found")
        if found.get("alg") not in (None, header["alg"]):
            raise Unauthorized("alg does not match the key")
        return jwt.PyJWK(found, algorithm=header["alg"]).key

    def _may_refresh(self, url: str) -> bool:
        fetched_at = self._jwks_cache.get(url, (float("-inf"), []))[0]
        return time.monotonic() - fetched_at >= JWKS_REFRESH_INTERVAL_SECONDS

    async def _jwks(self, url: str, *, refresh: bool) -> list[dict[str, Any]]:
        cached = self._jwks_cache.get(url)
        if cached and not refresh and time.monotonic() - cached[0] < JWKS_TTL_SECONDS:
            return cached[1]
        try:
            response = await self._http.get(url, timeout=self._timeout)
            keys = response.json()["keys"] if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            keys = None
        if not isinstance(keys, list):
            raise Unauthorized("JWK Set could not be fetched")
        self._jwks_cache[url] = (time.monotonic(), keys)
        return keys


def _find(keys: Iterable[Any], kid: str) -> dict[str, Any] | None:
    return next((k for k in keys if isinstance(k, dict) and k.get("kid") == kid), None)
