"""JWK Set fetching under attack (dripping, failing, oversized key servers) and state shared by replicas."""

import gzip
import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest
import respx
import yaml
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from cds_service.app import create_app
from cds_service.config import REPO_ROOT, Settings
from tests.api.test_client_auth import BASE, DISCOVERY, EC_KEY, _jwk, bearer, token, with_trusted_clients
from tests.utils.postgres import new_database

ISSUER = "https://keys.example.org"
JKU = "https://keys.example.org/jwks.json"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
VALID_SET = {"keys": [_jwk(KEY.public_key(), "k1", "RS384")]}


def signed(kid: str = "k1", jku: str = JKU, iss: str = ISSUER) -> str:
    now = int(time.time())
    claims = {"iss": iss, "aud": DISCOVERY, "exp": now + 300, "iat": now, "jti": uuid.uuid4().hex}
    return jwt.encode(claims, KEY, algorithm="RS384", headers={"kid": kid, "typ": "JWT", "jku": jku})


def keys_settings(settings: Settings, folder: Path, jku: str = JKU, **update: Any) -> Settings:
    trusted = folder / "key-server-clients.yaml"
    trusted.write_text(yaml.safe_dump({"clients": [{"iss": ISSUER, "jku": [jku]}]}), encoding="utf-8")
    return settings.model_copy(update={"trusted_clients_file": trusted, "public_base_url": BASE, **update})


class DripServer:
    """A key server on 127.0.0.1 that announces a body and then sends one byte every 0.2 s."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}/jwks.json"
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> "DripServer":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._socket.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            self.connections += 1
            threading.Thread(target=self._drip, args=(connection,), daemon=True).start()

    def _drip(self, connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)
            try:
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n")
                while not self._stop.wait(0.2):
                    connection.sendall(b" ")
            except OSError:
                return  # the service hung up, as it should


def test_a_dripping_key_server_cannot_hold_a_request_past_the_total_timeout(settings: Settings, tmp_path: Path) -> None:
    with DripServer() as server:
        configured = keys_settings(settings, tmp_path, jku=server.url, jwks_timeout_seconds=1.0)
        with TestClient(create_app(configured)) as client:
            started = time.perf_counter()
            first = client.get("/cds-services", headers=bearer(signed(jku=server.url)))
            held = time.perf_counter() - started
            started = time.perf_counter()
            second = client.get("/cds-services", headers=bearer(signed(jku=server.url)))
            again = time.perf_counter() - started

    assert first.status_code == second.status_code == 401
    assert held < 2.0  # 1 s total timeout; the per-read timeout (3 s) never fires on a drip
    assert again < 1.0 and server.connections == 1  # the failure is remembered: no second fetch


def test_forty_forged_tokens_cost_one_fetch_of_a_failing_key_server(
    settings: Settings, tmp_path: Path, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.get(JKU).respond(503)
    with TestClient(create_app(keys_settings(settings, tmp_path))) as client:
        statuses = {
            client.get("/cds-services", headers=bearer(signed(kid=f"forged-{i}"))).status_code for i in range(40)
        }

    assert statuses == {401}
    assert route.call_count == 1


def test_the_negative_cache_expires(settings: Settings, tmp_path: Path, respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get(JKU).mock(
        side_effect=[
            respx.MockResponse(503),
            respx.MockResponse(json={"keys": [_jwk(KEY.public_key(), "k1", "RS384")]}),
        ]
    )
    with TestClient(create_app(keys_settings(settings, tmp_path, jwks_negative_ttl_seconds=0.3))) as client:
        assert client.get("/cds-services", headers=bearer(signed())).status_code == 401
        time.sleep(0.4)
        assert client.get("/cds-services", headers=bearer(signed())).status_code == 200

    assert route.call_count == 2


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param({"content": b'{"keys": [' + b" " * 70_000 + b"]}"}, id="oversized-chunked"),
        pytest.param(
            {"content": b'{"keys": []}', "headers": {"Content-Length": "9999999"}}, id="oversized-by-content-length"
        ),
        pytest.param(
            {"content": gzip.compress(json.dumps(VALID_SET).encode()), "headers": {"Content-Encoding": "gzip"}},
            id="compressed",  # a small gzip may expand to gigabytes: only identity encoding is read
        ),
        pytest.param({"content": b"[" * 100_000}, id="deep-json"),
        pytest.param({"json": {"keys": "none"}}, id="not-a-jwk-set"),
    ],
)
def test_key_server_answers_beyond_the_caps_are_refused(
    settings: Settings, tmp_path: Path, respx_mock: respx.MockRouter, answer: dict[str, Any]
) -> None:
    respx_mock.get(JKU).respond(200, **answer)
    with TestClient(create_app(keys_settings(settings, tmp_path))) as client:
        assert client.get("/cds-services", headers=bearer(signed())).status_code == 401


def test_replicas_share_the_fetched_keys(settings: Settings, tmp_path: Path, respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get(JKU).respond(json=VALID_SET)
    configured = keys_settings(settings, tmp_path)
    with TestClient(create_app(configured)) as first, TestClient(create_app(configured)) as second:
        assert first.get("/cds-services", headers=bearer(signed())).status_code == 200
        assert second.get("/cds-services", headers=bearer(signed())).status_code == 200

    assert route.call_count == 1


SECOND_PROCESS = """
import sys
from fastapi.testclient import TestClient
from cds_service.app import create_app
from cds_service.config import Settings

settings = Settings(database_url=sys.argv[1], trusted_clients_file=sys.argv[2], public_base_url=sys.argv[3])
with TestClient(create_app(settings)) as client:
    print(client.get("/cds-services", headers={"Authorization": sys.stdin.read()}).status_code)
"""


def test_a_token_replayed_to_a_second_process_is_refused(settings: Settings, postgres: Any, tmp_path: Path) -> None:
    """Two OS processes on one PostgreSQL database stand for two replicas behind a load balancer.
    (SQLite shares the same table between engines: tests/store/test_shared_state.py.)"""
    shared = settings.model_copy(update={"database_url": new_database(postgres)})
    configured = with_trusted_clients(shared, tmp_path)
    authorization = bearer(token(DISCOVERY, key=EC_KEY))["Authorization"]
    with TestClient(create_app(configured)) as first:
        assert first.get("/cds-services", headers={"Authorization": authorization}).status_code == 200

    second = subprocess.run(
        [
            sys.executable,
            "-c",
            SECOND_PROCESS,
            configured.database_url,
            str(configured.trusted_clients_file),
            BASE,
        ],
        input=authorization,  # never on a command line, where `ps` would show it
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
        check=True,
    )

    assert second.stdout.strip().splitlines()[-1] == "401"
