"""Client JWT verification (CDS Hooks 2.0 §Trusting CDS Clients; Inferno client token checks)."""

import json
import logging
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import respx
import yaml
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from cds_service.app import create_app
from cds_service.config import REPO_ROOT, Settings
from cds_service.security import load_trusted_clients
from tests.utils import factories as f
from tests.utils.issued import issue

EHR = "https://ehr.example.org"
JKU_CLIENT = "https://sandbox.example.org"
JKU = "https://sandbox.example.org/.well-known/jwks.json"
BASE = "http://testserver"
EC_KEY = ec.generate_private_key(ec.SECP384R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_EC_KEY = ec.generate_private_key(ec.SECP384R1())
P256_KEY = ec.generate_private_key(ec.SECP256R1())
EHR_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwk(public_key: Any, kid: str, alg: str) -> dict[str, Any]:
    algorithm = ECAlgorithm if alg.startswith("ES") else RSAAlgorithm
    return {**algorithm.to_jwk(public_key, as_dict=True), "kid": kid, "alg": alg, "use": "sig"}


def _trusted_clients_file(folder: Path) -> Path:
    trusted = folder / "trusted-clients.yaml"
    trusted.write_text(
        yaml.safe_dump(
            {
                "clients": [
                    {
                        "iss": EHR,
                        "jwks": {
                            "keys": [
                                _jwk(EC_KEY.public_key(), "ehr-1", "ES384"),
                                _jwk(EHR_RSA_KEY.public_key(), "ehr-rsa", "RS384"),
                            ]
                        },
                    },
                    {"iss": JKU_CLIENT, "jku": [JKU]},
                ]
            }
        ),
        encoding="utf-8",
    )
    return trusted


def with_trusted_clients(settings: Settings, folder: Path) -> Settings:
    return settings.model_copy(update={"trusted_clients_file": _trusted_clients_file(folder), "public_base_url": BASE})


@pytest.fixture
def auth_client(settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(with_trusted_clients(settings, tmp_path))) as client:
        yield client


@pytest.fixture(scope="module")
def shared_auth_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app for the table of bad tokens: none of them changes its state."""
    folder = tmp_path_factory.mktemp("auth")
    with pytest.MonkeyPatch.context() as env:
        for name in list(os.environ):
            if name.startswith("HER2_CDS_"):
                env.delenv(name)
        settings = Settings(database_url=f"sqlite:///{folder / 'store.sqlite3'}")
        with TestClient(create_app(with_trusted_clients(settings, folder))) as client:
            yield client


def token(
    aud: str, *, key: Any = EC_KEY, alg: str = "ES384", header: dict[str, Any] | None = None, **claims: Any
) -> str:
    now = int(time.time())
    payload = {"iss": EHR, "aud": aud, "exp": now + 300, "iat": now, "jti": uuid.uuid4().hex, **claims}
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": "ehr-1", "typ": "JWT", **(header or {})})


def raw_token(aud: str, **claims: Any) -> str:
    """Signed as given: PyJWT's encoder refuses some malformed claims a hostile client can still send."""
    now = int(time.time())
    payload = {"iss": EHR, "aud": aud, "exp": now + 300, "iat": now, "jti": uuid.uuid4().hex, **claims}
    return jwt.api_jws.encode(
        json.dumps(payload).encode(), EC_KEY, algorithm="ES384", headers={"kid": "ehr-1", "typ": "JWT"}
    )


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def patient_view(auth_client: TestClient, headers: dict[str, str]) -> int:
    body = f.hook_request(
        "patient-view", prefetch=dict.fromkeys(auth_client.app.state.catalog["her2-patient-view"].prefetch)
    )  # type: ignore[attr-defined]
    return auth_client.post("/cds-services/her2-patient-view", json=body, headers=headers).status_code


def test_valid_es384_token_opens_each_endpoint_with_its_own_audience(auth_client: TestClient) -> None:
    assert auth_client.get("/cds-services", headers=bearer(token(f"{BASE}/cds-services"))).status_code == 200
    assert patient_view(auth_client, bearer(token(f"{BASE}/cds-services/her2-patient-view"))) == 200
    (card,) = issue(auth_client)
    feedback = {"feedback": [{"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-11-29T00:00:00Z"}]}
    response = auth_client.post(
        "/cds-services/her2-patient-view/feedback",
        json=feedback,
        headers=bearer(token(f"{BASE}/cds-services/her2-patient-view/feedback")),
    )
    assert response.status_code == 200


def test_audience_may_be_an_array(auth_client: TestClient) -> None:
    aud = ["https://elsewhere.example.org", f"{BASE}/cds-services"]
    assert auth_client.get("/cds-services", headers=bearer(token(aud))).status_code == 200  # type: ignore[arg-type]


def test_rs384_key_fetched_from_allowlisted_jku_and_cached(
    auth_client: TestClient, respx_mock: respx.MockRouter
) -> None:
    jwks = respx_mock.get(JKU).respond(json={"keys": [_jwk(RSA_KEY.public_key(), "rsa-1", "RS384")]})
    header = {"kid": "rsa-1", "jku": JKU}

    for _ in range(2):
        signed = token(f"{BASE}/cds-services", key=RSA_KEY, alg="RS384", header=header, iss=JKU_CLIENT)
        assert auth_client.get("/cds-services", headers=bearer(signed)).status_code == 200

    assert jwks.call_count == 1


def _unsigned(aud: str) -> str:
    return jwt.encode(
        {"iss": EHR, "aud": aud, "exp": int(time.time()) + 300, "iat": int(time.time()), "jti": "x"},
        None,
        algorithm="none",
        headers={"kid": "ehr-1", "typ": "JWT"},
    )


DISCOVERY = f"{BASE}/cds-services"
BAD_TOKENS = {
    "missing": None,
    "not-bearer": "Basic dXNlcjpwYXNz",
    "garbage": "Bearer not.a.jwt",
    "alg-none": f"Bearer {_unsigned(DISCOVERY)}",
    "hs256": f"Bearer {token(DISCOVERY, key='shared-secret-that-is-long-enough-32b', alg='HS256')}",
    "wrong-audience": f"Bearer {token('https://other.example.org/cds-services')}",
    "audience-of-another-endpoint": f"Bearer {token(DISCOVERY + '/her2-patient-view')}",
    "expired": f"Bearer {token(DISCOVERY, exp=int(time.time()) - 120)}",
    "not-yet-valid": f"Bearer {token(DISCOVERY, nbf=int(time.time()) + 600)}",
    "unknown-issuer": f"Bearer {token(DISCOVERY, iss='https://unknown.example.org')}",
    "unknown-kid": f"Bearer {token(DISCOVERY, header={'kid': 'nope'})}",
    "bad-signature": f"Bearer {token(DISCOVERY, key=OTHER_EC_KEY)}",
    "no-jti": f"Bearer {token(DISCOVERY, jti=None)}",
    "no-iat": f"Bearer {token(DISCOVERY, iat=None)}",
    "typ-not-jwt": f"Bearer {token(DISCOVERY, header={'typ': 'at+jwt'})}",
    "alg-not-the-keys": f"Bearer {token(DISCOVERY, key=EHR_RSA_KEY, alg='RS256', header={'kid': 'ehr-rsa'})}",
    # Claims typed strictly: PyJWT alone reads `exp` with int(), so a string would pass it.
    "exp-a-string": f"Bearer {token(DISCOVERY, exp=str(int(time.time()) + 300))}",
    "iat-a-string": f"Bearer {token(DISCOVERY, iat=str(int(time.time())))}",
    "exp-a-boolean": f"Bearer {token(DISCOVERY, exp=True)}",
    "exp-far-beyond-any-date": f"Bearer {token(DISCOVERY, exp=10**20)}",
    "nbf-a-string": f"Bearer {token(DISCOVERY, nbf='0')}",
    "jti-a-number": f"Bearer {token(DISCOVERY, jti=12345)}",
    "jti-empty": f"Bearer {token(DISCOVERY, jti='')}",
    "no-iss": f"Bearer {token(DISCOVERY, iss=None)}",
    "iss-a-list": f"Bearer {raw_token(DISCOVERY, iss=[EHR])}",
    "no-aud": f"Bearer {token(None)}",  # type: ignore[arg-type]
    "aud-a-number": f"Bearer {token(42)}",  # type: ignore[arg-type]
    "no-exp": f"Bearer {token(DISCOVERY, exp=None)}",
    "sub-a-number": f"Bearer {token(DISCOVERY, sub=7)}",
    "tenant-an-object": f"Bearer {token(DISCOVERY, tenant={'id': 'x'})}",
}


@pytest.mark.parametrize("authorization", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
def test_bad_token_is_401_without_detail(shared_auth_client: TestClient, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    response = shared_auth_client.get("/cds-services", headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "login", "diagnostics": "unauthorized"}],
    }


def test_replayed_jti_is_refused(auth_client: TestClient) -> None:
    signed = bearer(token(DISCOVERY))

    assert auth_client.get("/cds-services", headers=signed).status_code == 200
    assert auth_client.get("/cds-services", headers=signed).status_code == 401


def test_jku_outside_the_allowlist_is_never_fetched(auth_client: TestClient, respx_mock: respx.MockRouter) -> None:
    evil = respx_mock.get("https://evil.example.net/jwks.json").respond(
        json={"keys": [_jwk(RSA_KEY.public_key(), "rsa-1", "RS384")]}
    )
    signed = token(
        DISCOVERY,
        key=RSA_KEY,
        alg="RS384",
        header={"kid": "rsa-1", "jku": "https://evil.example.net/jwks.json"},
        iss=JKU_CLIENT,
    )

    assert auth_client.get("/cds-services", headers=bearer(signed)).status_code == 401
    assert evil.call_count == 0


def test_unauthenticated_caller_cannot_call_a_service_or_give_feedback(auth_client: TestClient) -> None:
    assert patient_view(auth_client, {}) == 401
    assert auth_client.post("/cds-services/her2-patient-view/feedback", json={"feedback": []}).status_code == 401


@pytest.mark.parametrize("prefix", ["", "/en", "/zh-CN"])
def test_which_services_exist_is_told_only_to_an_authenticated_caller(
    shared_auth_client: TestClient, prefix: str
) -> None:
    unknown = f"{prefix}/cds-services/no-such-service"
    known = f"{prefix}/cds-services/her2-patient-view"

    for path in (unknown, known):
        response = shared_auth_client.post(path, json={})
        assert response.status_code == 401  # checked before the service is looked up
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["issue"] == [{"severity": "error", "code": "login", "diagnostics": "unauthorized"}]
    answer = shared_auth_client.post(unknown, json={}, headers=bearer(token(f"{BASE}{unknown}")))
    assert answer.status_code == 404
    assert answer.json()["issue"][0]["diagnostics"] == "no CDS service with id 'no-such-service'"


def test_preflight_and_health_need_no_token(auth_client: TestClient) -> None:
    preflight = auth_client.options(
        "/cds-services", headers={"Origin": "https://sandbox.cds-hooks.org", "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code == 200
    assert auth_client.get("/healthz").status_code == 200


def test_audience_comes_from_configuration_not_from_the_host_header(auth_client: TestClient) -> None:
    """A token the same EHR issued for another CDS service cannot be replayed here by forging Host."""
    foreign = token("http://other-vendor.example.com/cds-services")

    response = auth_client.get("/cds-services", headers={**bearer(foreign), "Host": "other-vendor.example.com"})

    assert response.status_code == 401


def test_trusted_clients_without_public_base_url_stop_start_up(settings: Settings) -> None:
    example = REPO_ROOT / "config" / "trusted-clients.example.yaml"

    with pytest.raises(ValueError, match="PUBLIC_BASE_URL"):
        create_app(settings.model_copy(update={"trusted_clients_file": example}))


def test_scheme_is_case_insensitive(auth_client: TestClient) -> None:
    assert auth_client.get("/cds-services", headers={"Authorization": f"bearer {token(DISCOVERY)}"}).status_code == 200


def test_out_of_band_keys_decide_when_the_jku_is_not_allowlisted(
    auth_client: TestClient, respx_mock: respx.MockRouter
) -> None:
    """Clients that always send jku (Epic, the Sandbox) can still be trusted with keys handed over out of band."""
    named = respx_mock.get("https://ehr.example.org/jwks").respond(json={"keys": []})
    signed = token(DISCOVERY, header={"jku": "https://ehr.example.org/jwks"})

    assert auth_client.get("/cds-services", headers=bearer(signed)).status_code == 200
    assert named.call_count == 0


def test_forged_kids_cannot_make_the_service_refetch_keys(
    auth_client: TestClient, respx_mock: respx.MockRouter
) -> None:
    jwks = respx_mock.get(JKU).respond(json={"keys": [_jwk(RSA_KEY.public_key(), "rsa-1", "RS384")]})
    good = token(DISCOVERY, key=RSA_KEY, alg="RS384", header={"kid": "rsa-1", "jku": JKU}, iss=JKU_CLIENT)
    assert auth_client.get("/cds-services", headers=bearer(good)).status_code == 200

    for attempt in range(5):
        forged = token(
            DISCOVERY, key=RSA_KEY, alg="RS384", header={"kid": f"forged-{attempt}", "jku": JKU}, iss=JKU_CLIENT
        )
        assert auth_client.get("/cds-services", headers=bearer(forged)).status_code == 401

    assert jwks.call_count == 1


def test_the_token_never_reaches_the_log(auth_client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    signed = token(DISCOVERY, key=OTHER_EC_KEY)

    auth_client.get("/cds-services", headers=bearer(signed))

    assert signed not in caplog.text and signed.split(".")[2] not in caplog.text
    assert "401 on /cds-services" in caplog.text


def test_example_trusted_clients_file_loads() -> None:
    clients = load_trusted_clients(REPO_ROOT / "config" / "trusted-clients.example.yaml")

    assert clients["https://sandbox.cds-hooks.org"].jku == ("https://sandbox.cds-hooks.org/.well-known/jwks.json",)


@pytest.mark.parametrize("path", ["/openapi.json", "/docs", "/redoc"])
def test_api_docs_need_the_same_token_as_the_hooks(auth_client: TestClient, path: str) -> None:
    assert auth_client.get(path).status_code == 401
    assert auth_client.get(path, headers=bearer(token(f"{BASE}{path}"))).status_code == 200


@pytest.mark.parametrize(("mode", "status"), [("public", 200), ("off", 404)])
def test_api_docs_can_be_public_or_off(settings: Settings, mode: str, status: int) -> None:
    with TestClient(create_app(settings.model_copy(update={"api_docs": mode}))) as client:
        assert client.get("/openapi.json").status_code == status


def test_api_docs_are_open_when_the_hooks_are(client: TestClient) -> None:
    assert client.get("/openapi.json").json()["info"]["title"] == "HER2 CDS Hooks service"
