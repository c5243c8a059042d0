"""Outbound trust (issue 8): where the token may travel, how much is read, for how long, and what a 412 says."""

import asyncio
import logging
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from fastapi.testclient import TestClient

from cds_service.app import create_app
from cds_service.config import Settings
from cds_service.fhir.guard import UnsafeUrl, is_internal_host, is_under, normalise_url
from tests.utils import factories as f

FHIR = "https://fhir.example.org/r4"
TOKEN = "secret-access-token"


@pytest.fixture(scope="module")
def module_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    db = tmp_path_factory.mktemp("outbound") / "feedback.sqlite3"
    return Settings(database_url=f"sqlite:///{db}", hook_deadline_seconds=2.0, fhir_request_timeout_seconds=1.0)


@pytest.fixture(scope="module")
def shared(module_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(module_settings)) as client:
        yield client


@pytest.fixture(scope="module")
def templates(shared: TestClient) -> dict[str, str]:
    return dict(shared.app.state.catalog["her2-patient-view"].prefetch)  # type: ignore[attr-defined]


def _without(templates: dict[str, str], key: str) -> dict[str, Any]:
    prefetch = f.prefetch_for(templates, [f.patient(), f.breast_cancer()], "p1")
    del prefetch[key]
    return prefetch


def _patient_view(client: TestClient, prefetch: dict[str, Any] | None, server: str = FHIR) -> httpx.Response:
    body = f.hook_request("patient-view", prefetch=prefetch, fhir_server=server, token=TOKEN)
    return client.post("/cds-services/her2-patient-view", json=body)


# -- the SSRF table -----------------------------------------------------------------------------------------------

ESCAPING_LINKS = {
    "dot-dot": f"{FHIR}/../admin/users",
    "dot-dot-deep": f"{FHIR}/Observation/../../../admin",
    "encoded-dots": f"{FHIR}/%2e%2e/admin",
    "encoded-dots-upper": f"{FHIR}/%2E%2E/%2E%2E/admin",
    "half-encoded": f"{FHIR}/.%2e/admin",
    "double-encoded": f"{FHIR}/%252e%252e/admin",
    "encoded-slash": f"{FHIR}/..%2fadmin",
    "backslashes": "https://fhir.example.org/r4\\..\\admin",
    "tomcat-path-param": f"{FHIR}/..;/admin",
    "userinfo": "https://fhir.example.org@attacker.example.net/r4/Observation",
    "userinfo-same-host": "https://user:pw@fhir.example.org/r4/Observation",
    "other-port": "https://fhir.example.org:8443/r4/Observation",
    "other-scheme": "http://fhir.example.org/r4/Observation",
    "prefix-lookalike": "https://fhir.example.org/r4-admin/Observation",
    "other-host": "https://attacker.example.net/steal",
    "numeric-ip": "http://2130706433/r4/Observation",
    "ipv6-loopback": "http://[::1]/r4/Observation",
    "file": "file:///etc/passwd",
    "relative-escape": "../../admin",
    "control-chars": f"{FHIR}/Observation\r\nX: 1",
}


@pytest.mark.parametrize("link", ESCAPING_LINKS.values(), ids=ESCAPING_LINKS.keys())
def test_next_links_from_the_fhir_server_that_leave_the_base_are_not_followed(
    shared: TestClient, templates: dict[str, str], respx_mock: respx.MockRouter, link: str
) -> None:
    respx_mock.get(f"{FHIR}/Observation").respond(json=f.searchset([], next_url=link))
    elsewhere = respx_mock.route().respond(json=f.searchset([]))

    response = _patient_view(shared, _without(templates, "biomarkers"))

    assert response.status_code == 412
    assert "not followed" in response.json()["issue"][0]["diagnostics"]  # said, never silent
    assert elsewhere.call_count == 0  # the token went nowhere else


@pytest.mark.parametrize("link", ESCAPING_LINKS.values(), ids=ESCAPING_LINKS.keys())
def test_next_links_in_prefetch_that_leave_the_base_are_not_followed(
    shared: TestClient, templates: dict[str, str], respx_mock: respx.MockRouter, link: str
) -> None:
    prefetch = f.prefetch_for(templates, [f.patient(), f.breast_cancer()], "p1")
    prefetch["biomarkers"] = f.searchset([], next_url=link)
    anywhere = respx_mock.route().respond(json=f.searchset([]))

    response = _patient_view(shared, prefetch)

    assert response.status_code == 412
    assert anywhere.call_count == 0


@pytest.mark.parametrize(
    "link",
    [
        f"{FHIR}/Observation?page=2",
        "https://FHIR.example.org:443/r4/Observation?page=2",  # same server, spelled otherwise
        f"{FHIR}/Observation/./?page=2",
        f"{FHIR}?_getpages=abc&_getpagesoffset=100",  # HAPI
        "Observation?page=2",  # relative to the base
    ],
)
def test_links_that_stay_under_the_base_are_followed(
    shared: TestClient, templates: dict[str, str], respx_mock: respx.MockRouter, link: str
) -> None:
    prefetch = f.prefetch_for(templates, [f.patient(), f.breast_cancer()], "p1")
    prefetch["biomarkers"] = f.searchset([], next_url=link)
    route = respx_mock.route(host="fhir.example.org").respond(json=f.searchset([]))

    response = _patient_view(shared, prefetch)

    assert response.status_code == 200
    assert route.call_count == 1
    assert str(route.calls[0].request.url).startswith(FHIR)


@pytest.mark.parametrize(
    "reference",
    [
        "Medication/../../admin",
        "Medication/%2e%2e/%2e%2e/admin",
        "Medication/..%2f..%2fadmin",
        "Medication/..\\..\\admin",
        "Medication/x/../../../../admin",
        "Medication/..;/..;/admin",
    ],
)
def test_medication_references_cannot_leave_the_base(
    shared: TestClient, templates: dict[str, str], respx_mock: respx.MockRouter, reference: str
) -> None:
    order = f.medication_request("mr1")
    del order["medicationCodeableConcept"]
    order["medicationReference"] = {"reference": reference}
    body = f.hook_request(
        "order-select",
        prefetch=f.prefetch_for(templates, [f.patient()], "p1"),
        fhir_server=FHIR,
        token=TOKEN,
        selections=["MedicationRequest/mr1"],
        draftOrders=f.draft_orders(order),
    )
    anywhere = respx_mock.route().respond(json={"resourceType": "Medication"})

    response = shared.post("/cds-services/her2-order-select", json=body)

    assert response.status_code == 200
    assert anywhere.call_count == 0
    (card,) = response.json()["cards"]
    # Reported, with why: a link refused by the guard, or (not a plain `Medication/<id>`) never read at all.
    assert "not followed" in card["detail"] or "no readable medicationReference" in card["detail"]


INTERNAL_SERVERS = [
    "http://127.0.0.1/fhir",
    "http://localhost:8090/fhir",
    "http://LOCALHOST./fhir",
    "http://app.localhost/fhir",
    "http://[::1]/fhir",
    "http://[::ffff:127.0.0.1]/fhir",
    "http://[::]/fhir",
    "http://0.0.0.0/fhir",
    "http://2130706433/fhir",
    "http://0x7f000001/fhir",
    "http://0177.0.0.1/fhir",
    "http://127.1/fhir",
    "http://10.1.2.3/fhir",
    "http://172.16.0.1/fhir",
    "http://192.168.1.1/fhir",
    "http://169.254.169.254/latest/meta-data",  # cloud metadata
    "http://[fe80::1]/fhir",
    "http://[fd00::1]/fhir",
    "http://100.64.0.1/fhir",
    "http://[64:ff9b::7f00:1]/fhir",  # NAT64 of 127.0.0.1
    "http://[2002:7f00:1::]/fhir",  # 6to4 of 127.0.0.1
    "http://[0:0:0:0:0:0:0:1]/fhir",
    "http://0x7f.1/fhir",
    "http://0/fhir",
    "http://[::7f00:1]/fhir",  # IPv4-compatible form of 127.0.0.1
    "http://[::ffff:0:7f00:1]/fhir",  # SIIT form
    "http://[64:ff9b:1::7f00:1]/fhir",  # local-use NAT64 (RFC 8215)
    "http://[fec0::1]/fhir",  # site-local
]


@pytest.mark.parametrize("server", INTERNAL_SERVERS)
def test_without_an_allowlist_internal_fhir_servers_are_refused(
    shared: TestClient, respx_mock: respx.MockRouter, server: str
) -> None:
    anywhere = respx_mock.route().respond(json={"resourceType": "Patient"})

    response = _patient_view(shared, None, server)

    assert response.status_code == 412
    assert anywhere.call_count == 0
    assert "allowlist" in response.json()["issue"][0]["diagnostics"]


def test_an_allowlisted_internal_fhir_server_is_called(module_settings: Settings, respx_mock: respx.MockRouter) -> None:
    route = respx_mock.route(host="127.0.0.1").respond(json=f.searchset([]))
    settings = module_settings.model_copy(update={"fhir_server_allowlist": ["http://127.0.0.1:8090/fhir"]})

    with TestClient(create_app(settings)) as client:
        response = _patient_view(client, None, "http://127.0.0.1:8090/fhir")
        refused = _patient_view(client, None, "http://127.0.0.1:8091/fhir")

    assert response.status_code == 200 and route.call_count >= 7
    assert refused.status_code == 412


@pytest.mark.parametrize(
    "server",
    [
        "https://fhir.example.org/r4/../admin",
        "https://fhir.example.org/r4/%2e%2e/admin",
        "https://fhir.example.org/r4\\..\\admin",
        "https://fhir.example.org:8443/r4",
        "https://fhir.example.org/r4-admin",
        "https://fhir.example.org.attacker.net/r4",
    ],
)
def test_the_allowlist_is_checked_after_normalisation(
    module_settings: Settings, respx_mock: respx.MockRouter, server: str
) -> None:
    anywhere = respx_mock.route().respond(json={"resourceType": "Patient"})
    settings = module_settings.model_copy(update={"fhir_server_allowlist": [FHIR]})

    with TestClient(create_app(settings)) as client:
        response = _patient_view(client, None, server)

    assert response.status_code == 412
    assert anywhere.call_count == 0


@pytest.mark.parametrize("server", ["https://user:pw@fhir.example.org/r4", f"{FHIR}?x=1", f"{FHIR}#frag"])
def test_fhir_server_with_user_info_query_or_fragment_is_400(shared: TestClient, server: str) -> None:
    assert _patient_view(shared, None, server).status_code == 400


@pytest.mark.parametrize(
    ("url", "prefix", "under"),
    [
        (f"{FHIR}/Observation", FHIR, True),
        (f"{FHIR}?_getpages=x", FHIR, True),
        (f"{FHIR}", FHIR, True),
        ("https://fhir.example.org/r4x", FHIR, False),
        ("https://fhir.example.org/", FHIR, False),
    ],
)
def test_is_under(url: str, prefix: str, under: bool) -> None:
    assert is_under(normalise_url(url), normalise_url(prefix).rstrip("/")) is under


@pytest.mark.parametrize("url", ["https://a.example/x%00y", "https://a.example/x;y=1", "ftp://a.example/", "nonsense"])
def test_ambiguous_urls_are_unsafe(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        normalise_url(url)


def test_public_hosts_are_not_internal() -> None:
    assert not is_internal_host("https://fhir.example.org/r4")
    assert not is_internal_host("http://8.8.8.8/")


# -- what a 412 says ------------------------------------------------------------------------------------------------

FAILURES = {
    "refused": httpx.ConnectError("connection refused"),
    "silent": httpx.ReadTimeout("timed out"),
    "not-fhir": httpx.Response(200, text="SSH-2.0-OpenSSH_9.6"),
    "html": httpx.Response(200, html="<html>router login</html>"),
    "http-error": httpx.Response(502),
}


def test_412_texts_do_not_tell_network_failures_apart(
    shared: TestClient, templates: dict[str, str], respx_mock: respx.MockRouter
) -> None:
    texts = set()
    for failure in FAILURES.values():
        respx_mock.reset()
        respx_mock.get(f"{FHIR}/Condition").mock(side_effect=[failure, failure])
        response = _patient_view(shared, _without(templates, "conditions"))
        assert response.status_code == 412
        texts.add(response.json()["issue"][0]["diagnostics"])

    assert texts == {"prefetch 'conditions': the FHIR server gave no usable answer"}


def test_the_debug_switch_names_the_failure(
    module_settings: Settings, templates: dict[str, str], respx_mock: respx.MockRouter
) -> None:
    respx_mock.get(f"{FHIR}/Condition").respond(502)

    with TestClient(create_app(module_settings.model_copy(update={"debug_errors": True}))) as client:
        response = _patient_view(client, _without(templates, "conditions"))

    assert "HTTP 502" in response.json()["issue"][0]["diagnostics"]


# -- sizes, depth, time, retries ------------------------------------------------------------------------------------


def _gzip_bomb(expanded_mb: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31, 9, zlib.Z_RLE)
    head = b'{"resourceType": "Bundle", "type": "searchset", "entry": [], "pad": "'
    parts = [compressor.compress(head)]
    block = b" " * (1024 * 1024)
    parts += [compressor.compress(block) for _ in range(expanded_mb)]
    parts.append(compressor.compress(b'"}') + compressor.flush())
    return b"".join(parts)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return _gzip_bomb(300)  # ~0.3 MB on the wire, 300 MB expanded


def test_a_gzip_bomb_stops_at_the_size_cap(module_settings: Settings, templates: dict[str, str], bomb: bytes) -> None:
    assert len(bomb) < 400_000

    async def stream() -> AsyncIterator[bytes]:  # as a network delivers it (bytes would be decoded by the mock)
        for start in range(0, len(bomb), 16_384):
            yield bomb[start : start + 16_384]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/Condition"):
            return httpx.Response(200, content=stream(), headers={"Content-Encoding": "gzip"})
        return httpx.Response(200, json=f.searchset([]))

    settings = module_settings.model_copy(update={"fhir_max_response_bytes": 4 * 1024 * 1024, "debug_errors": True})

    with TestClient(create_app(settings, transport=httpx.MockTransport(handler))) as client:
        started = time.perf_counter()
        response = _patient_view(client, _without(templates, "conditions"))
        elapsed = time.perf_counter() - started

    assert response.status_code == 412
    assert "once decompressed" in response.json()["issue"][0]["diagnostics"]
    assert elapsed < 3.0  # decompressing all 300 MB would be far slower (and 300 MB of memory)


def test_a_gzip_answer_under_the_cap_is_read(
    shared: TestClient, templates: dict[str, str], respx_mock: respx.MockRouter
) -> None:
    compressed = zlib.compress(b'{"resourceType": "Bundle", "type": "searchset"}', wbits=31)
    respx_mock.get(f"{FHIR}/Condition").respond(content=compressed, headers={"Content-Encoding": "gzip"})

    assert _patient_view(shared, _without(templates, "conditions")).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{"Content-Length": str(64 * 1024 * 1024)}, {"Content-Encoding": "br"}],
    ids=["declared-too-big", "unasked-encoding"],
)
def test_oversized_or_unreadable_answers_are_refused(
    module_settings: Settings, templates: dict[str, str], respx_mock: respx.MockRouter, headers: dict[str, str]
) -> None:
    respx_mock.get(f"{FHIR}/Condition").respond(content=b'{"resourceType": "Bundle"}', headers=headers)

    with TestClient(create_app(module_settings.model_copy(update={"debug_errors": True}))) as client:
        response = _patient_view(client, _without(templates, "conditions"))

    assert response.status_code == 412


def _dripping(tmp_path: Path) -> httpx.MockTransport:
    async def drip() -> AsyncIterator[bytes]:
        yield b'{"resourceType": "Bundle", "pad": "'
        for _ in range(600):  # one byte every 50 ms: 30 s in all
            await asyncio.sleep(0.05)
            yield b" "
        yield b'"}'

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/Condition"):
            return httpx.Response(200, content=drip())
        return httpx.Response(200, json=f.searchset([]))

    return httpx.MockTransport(handler)


def test_a_server_dripping_bytes_cannot_hold_the_hook(
    module_settings: Settings, templates: dict[str, str], tmp_path: Path
) -> None:
    """Each byte arrives before any read timeout would fire: only an overall timeout stops it."""
    settings = module_settings.model_copy(update={"hook_deadline_seconds": 30.0, "fhir_request_timeout_seconds": 0.5})

    with TestClient(create_app(settings, transport=_dripping(tmp_path))) as client:
        started = time.perf_counter()
        response = _patient_view(client, _without(templates, "conditions"))
        elapsed = time.perf_counter() - started

    assert response.status_code == 412
    assert elapsed < 3.0  # request timeout 0.5 s; the drip would take 30 s


def test_a_connect_error_is_retried_once(
    shared: TestClient, templates: dict[str, str], respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.get(f"{FHIR}/Condition").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json=f.searchset([]))]
    )

    response = _patient_view(shared, _without(templates, "conditions"))

    assert response.status_code == 200
    assert route.call_count == 2


def test_other_errors_are_not_retried(
    shared: TestClient, templates: dict[str, str], respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.get(f"{FHIR}/Condition").mock(side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200)])

    assert _patient_view(shared, _without(templates, "conditions")).status_code == 412
    assert route.call_count == 1


# -- secure by default ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "cds.example.org"])
def test_an_open_service_refuses_to_listen_beyond_loopback(module_settings: Settings, host: str) -> None:
    with pytest.raises(ValueError, match="HER2_CDS_ALLOW_INSECURE"):
        create_app(module_settings.model_copy(update={"host": host}))


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_loopback_binds_start_without_configuration(module_settings: Settings, host: str) -> None:
    create_app(module_settings.model_copy(update={"host": host}))


def test_an_allowlist_or_the_development_switch_lets_it_listen_beyond_loopback(
    module_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    create_app(module_settings.model_copy(update={"host": "0.0.0.0", "fhir_server_allowlist": [FHIR]}))
    with caplog.at_level(logging.WARNING):
        create_app(module_settings.model_copy(update={"host": "0.0.0.0", "allow_insecure": True}))

    assert any(r.getMessage().startswith("INSECURE") for r in caplog.records)


def test_a_malformed_allowlist_entry_stops_start_up(module_settings: Settings) -> None:
    with pytest.raises(ValueError, match="ALLOWLIST"):
        create_app(module_settings.model_copy(update={"fhir_server_allowlist": ["fhir.example.org/r4"]}))


def test_serve_explains_a_refused_bind_instead_of_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    from cds_service.cli import main

    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "HER2_CDS_ALLOW_INSECURE" in capsys.readouterr().err


def test_all_answers_of_one_call_share_one_size_budget(module_settings: Settings, templates: dict[str, str]) -> None:
    """Every page under the per-answer cap, but endless: the call's budget stops it (memory stays bounded)."""
    page = {"resourceType": "Bundle", "type": "searchset", "pad": "x" * 300_000}
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(
            200, json={**page, "link": [{"relation": "next", "url": f"{FHIR}/Condition?page={len(calls)}"}]}
        )

    settings = module_settings.model_copy(
        update={"fhir_max_call_bytes": 1024 * 1024, "fhir_max_pages": 50, "debug_errors": True}
    )
    with TestClient(create_app(settings, transport=httpx.MockTransport(handler))) as client:
        response = _patient_view(client, _without(templates, "conditions"))

    assert response.status_code == 412
    assert "answers of this call too large" in response.json()["issue"][0]["diagnostics"]
    assert len(calls) <= 5  # about 1 MB read, not 50 pages
