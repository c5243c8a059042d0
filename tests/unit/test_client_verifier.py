"""ClientVerifier on its own: concurrent forged tokens share one JWK Set fetch (single flight + negative cache)."""

import asyncio
import json
import time
import uuid
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from cds_service.security import ClientVerifier, JwksPolicy, TrustedClient, Unauthorized
from cds_service.store import Database, JwksCache, ReplayGuard

ISSUER = "https://ehr.example.org"
JKU = "https://ehr.example.org/jwks"
AUDIENCE = "https://cds.example.org/cds-services"
KEY = ec.generate_private_key(ec.SECP384R1())


def _forged(kid: str) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "exp": now + 300, "iat": now, "jti": uuid.uuid4().hex}
    return "Bearer " + jwt.encode(claims, KEY, algorithm="ES384", headers={"kid": kid, "typ": "JWT", "jku": JKU})


def test_forty_concurrent_forged_tokens_cause_one_fetch(tmp_path: Path) -> None:
    fetches = 0

    async def slow_failing_key_server(request: httpx.Request) -> httpx.Response:
        nonlocal fetches
        fetches += 1
        await asyncio.sleep(0.2)  # all 40 calls arrive while the first fetch is under way
        return httpx.Response(503)

    async def scenario() -> list[BaseException | dict[str, object]]:
        database = Database(f"sqlite:///{tmp_path / 'verifier.sqlite3'}")
        async with httpx.AsyncClient(transport=httpx.MockTransport(slow_failing_key_server)) as http:
            verifier = ClientVerifier(
                {ISSUER: TrustedClient(iss=ISSUER, jku=(JKU,))},
                http,
                replay=ReplayGuard(database, grace_seconds=60),
                jwks_cache=JwksCache(database),
                policy=JwksPolicy(negative_ttl_seconds=60),
            )
            results = await asyncio.gather(
                *(verifier.verify(_forged(f"forged-{n}"), AUDIENCE) for n in range(40)), return_exceptions=True
            )
        database.close()
        return results

    results = asyncio.run(scenario())

    assert all(isinstance(result, Unauthorized) for result in results)
    assert fetches == 1


@pytest.mark.parametrize("claims", [{"exp": "4102444800"}, {"iat": "1"}, {"jti": 1}, {"iss": None}])
def test_claims_are_checked_before_any_key_is_fetched(tmp_path: Path, claims: dict[str, object]) -> None:
    def key_server(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no fetch for a token whose claims are malformed")

    async def scenario() -> None:
        database = Database(f"sqlite:///{tmp_path / 'verifier.sqlite3'}")
        now = int(time.time())
        payload = {"iss": ISSUER, "aud": AUDIENCE, "exp": now + 300, "iat": now, "jti": "j", **claims}
        token = jwt.api_jws.encode(json.dumps(payload).encode(), KEY, "ES384", {"kid": "k", "typ": "JWT", "jku": JKU})
        async with httpx.AsyncClient(transport=httpx.MockTransport(key_server)) as http:
            verifier = ClientVerifier(
                {ISSUER: TrustedClient(iss=ISSUER, jku=(JKU,))},
                http,
                replay=ReplayGuard(database, grace_seconds=60),
                jwks_cache=JwksCache(database),
            )
            with pytest.raises(Unauthorized, match="claims not as CDS Hooks requires"):
                await verifier.verify(f"Bearer {token}", AUDIENCE)
        database.close()

    asyncio.run(scenario())
