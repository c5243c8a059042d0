"""Verification of the client JWT sent as `Authorization: Bearer <jwt>` on every CDS Hooks call.

Any failure is one `Unauthorized`; the reason is logged (with iss and jti only), never returned.
Used `jti`s and fetched JWK Sets live in the database, so that replicas behind a load balancer act as one."""

import asyncio
import json
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from pydantic import ValidationError

from ..ops.metrics import JWKS_FETCHES
from ..store.shared import JwksCache, ReplayGuard
from .claims import ClientClaims
from .trust import TrustedClient

__all__ = ["ClientVerifier", "JwksPolicy", "Unauthorized"]

log = logging.getLogger("cds_service.security")

# Asymmetric algorithms only: CDS Hooks forbids `none` and shared-secret (HMAC) signatures.
ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})
LEEWAY_SECONDS = 60
MAX_TOKEN_BYTES = 16 * 1024


class Unauthorized(Exception):
    pass


@dataclass(frozen=True)
class JwksPolicy:
    # Wall-clock bound on a whole fetch (connect, headers and every byte): a dripping server cannot hold a call.
    timeout_seconds: float = 3.0
    max_bytes: int = 64 * 1024
    ttl_seconds: float = 300.0
    # After a failed fetch, the URL is not fetched again for this long (by any replica): forged tokens
    # naming an allowlisted but broken key server cost one fetch, not one each.
    negative_ttl_seconds: float = 60.0
    # A token naming an unknown kid triggers at most one early refetch per this interval (key rotation).
    refresh_interval_seconds: float = 60.0
    # Keys from the last good fetch still verify while the key server is failing, for at most this long.
    stale_seconds: float = 3600.0


class ClientVerifier:
    def __init__(
        self,
        clients: Mapping[str, TrustedClient],
        http: httpx.AsyncClient,
        *,
        replay: ReplayGuard,
        jwks_cache: JwksCache,
        policy: JwksPolicy | None = None,
    ) -> None:
        self._clients = clients
        self._http = http
        self._replay = replay
        self._cache = jwks_cache
        self._policy = policy or JwksPolicy()
        # One fetch per URL at a time in this process; the others wait and read what it stored.
        self._locks: dict[str, asyncio.Lock] = {}

    async def verify(self, authorization: str | None, audience: str) -> dict[str, Any]:
        try:
            return await self._verify(authorization, audience)
        except (jwt.PyJWTError, ValueError, KeyError, TypeError, UnicodeError) as exc:
            # ValidationError is a ValueError; its text may quote claim values, so only the type is kept.
            raise Unauthorized(f"invalid token ({type(exc).__name__})") from None

    async def _verify(self, authorization: str | None, audience: str) -> dict[str, Any]:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("no bearer token")
        token = token.strip()
        if len(token) > MAX_TOKEN_BYTES:
            raise Unauthorized("token too large")
        header = jwt.get_unverified_header(token)
        if header.get("alg") not in ALGORITHMS:
            raise Unauthorized("algorithm not accepted")
        if header.get("typ") != "JWT" or not isinstance(header.get("kid"), str) or not header["kid"]:
            raise Unauthorized("header needs typ JWT and kid")
        try:
            typed = ClientClaims.model_validate(jwt.decode(token, options={"verify_signature": False}))
        except ValidationError as exc:
            fields = sorted({".".join(str(p) for p in error["loc"][:1]) for error in exc.errors()})
            raise Unauthorized(f"claims not as CDS Hooks requires: {','.join(fields)}") from None
        client = self._clients.get(typed.iss)
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
        if not await asyncio.to_thread(self._replay.first_use, client.iss, typed.jti, float(typed.exp)):
            raise Unauthorized(f"jti replayed iss={client.iss} jti={typed.jti}")
        log.debug("client verified iss=%s jti=%s", client.iss, typed.jti)
        return claims

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
        if found is None and jku:  # keys may have rotated
            found = _find(await self._jwks(jku, refresh=True), header["kid"])
        if found is None:
            raise Unauthorized("kid not found")
        if found.get("alg") not in (None, header["alg"]):
            raise Unauthorized("alg does not match the key")
        return jwt.PyJWK(found, algorithm=header["alg"]).key

    async def _jwks(self, url: str, *, refresh: bool) -> list[dict[str, Any]]:
        policy = self._policy
        async with self._locks.setdefault(url, asyncio.Lock()):
            cached = await asyncio.to_thread(self._cache.get, url)
            now = time.time()
            if cached is not None:
                fresh_for = policy.refresh_interval_seconds if refresh else policy.ttl_seconds
                if cached.keys is not None and now - cached.fetched_at < fresh_for:
                    return cached.keys
                if now - cached.failed_at < policy.negative_ttl_seconds:
                    JWKS_FETCHES.labels("negative_cache").inc()
                    return self._stale(cached.keys, cached.fetched_at, now)
            keys = await self._fetch(url)
            await asyncio.to_thread(self._cache.put, url, keys, now)
            if keys is None:
                return self._stale(cached.keys if cached else None, cached.fetched_at if cached else 0.0, now)
            return keys

    def _stale(self, keys: list[dict[str, Any]] | None, fetched_at: float, now: float) -> list[dict[str, Any]]:
        if keys is not None and now - fetched_at < self._policy.stale_seconds:
            return keys
        raise Unauthorized("JWK Set could not be fetched")

    async def _fetch(self, url: str) -> list[dict[str, Any]] | None:
        policy = self._policy
        try:
            async with asyncio.timeout(policy.timeout_seconds):
                headers = {"Accept": "application/json", "Accept-Encoding": "identity"}
                async with self._http.stream("GET", url, headers=headers, timeout=policy.timeout_seconds) as response:
                    if response.status_code != 200:
                        return self._failed(url, f"HTTP {response.status_code}")
                    if response.headers.get("Content-Encoding", "identity").lower() != "identity":
                        return self._failed(url, "compressed answer")
                    declared = response.headers.get("Content-Length", "0")
                    if not declared.isdigit() or int(declared) > policy.max_bytes:
                        return self._failed(url, "too large")
                    body = bytearray()
                    async for chunk in response.aiter_raw():
                        body += chunk
                        if len(body) > policy.max_bytes:
                            return self._failed(url, "too large")
            keys = _parse_keys(bytes(body))
        except TimeoutError:
            return self._failed(url, "total timeout")
        except httpx.HTTPError as exc:
            return self._failed(url, type(exc).__name__)
        if keys is None:
            return self._failed(url, "not a JWK Set")
        JWKS_FETCHES.labels("ok").inc()
        return keys

    @staticmethod
    def _failed(url: str, reason: str) -> None:
        JWKS_FETCHES.labels("failed").inc()
        log.warning("JWK Set fetch failed url=%s reason=%s", url, reason)
        return None


def _parse_keys(body: bytes) -> list[dict[str, Any]] | None:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        return None
    return [key for key in keys if isinstance(key, dict)]


def _find(keys: Iterable[Any], kid: str) -> dict[str, Any] | None:
    return next((k for k in keys if isinstance(k, dict) and k.get("kid") == kid), None)
