"""Prefetch semantics (CDS Hooks 2.0 §Prefetch) and the FHIR fallback, with the FHIR server mocked by respx."""

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from fastapi.testclient import TestClient

from cds_service.app import create_app
from cds_service.config import Settings
from tests.utils import factories as f
from tests.utils.cards import by_topic, topics

FHIR = "https://fhir.example.org/r4"
TOKEN = "secret-access-token"
HER2_3PLUS = f.observation("her2-page2", "85319-2", value=f.coded(f.LOINC, "LA11843-2", "3+"), date="2025-02-02")


@pytest.fixture
def complete(templates: dict[str, str]) -> dict[str, Any]:
    return f.prefetch_for(templates, [f.patient(), f.breast_cancer()], "p1")


def post(client: TestClient, body: dict[str, Any]) -> httpx.Response:
    return client.post("/cds-services/her2-patient-view", json=body)


def test_complete_prefetch_makes_no_outbound_call(
    client: TestClient, complete: dict[str, Any], respx_mock: respx.MockRouter
) -> None:
    response = post(client, f.hook_request("patient-view", prefetch=complete, fhir_server=FHIR, token=TOKEN))

    assert response.status_code == 200
    assert respx_mock.calls.call_count == 0


def test_missing_key_is_fetched_with_bearer_token_and_paging_followed(
    client: TestClient, complete: dict[str, Any], respx_mock: respx.MockRouter
) -> None:
    del complete["biomarkers"]
    page2 = f"{FHIR}/Observation?_getpages=abc&_offset=1"
    respx_mock.get(f"{FHIR}/Observation", params={"_getpages": "abc"}).respond(json=f.searchset([HER2_3PLUS]))
    first = respx_mock.get(f"{FHIR}/Observation").respond(json=f.searchset([], next_url=page2))

    response = post(client, f.hook_request("patient-view", prefetch=complete, fhir_server=FHIR, token=TOKEN))

    assert response.status_code == 200
    assert respx_mock.calls.call_count == 2
    assert all(c.request.headers["Authorization"] == f"Bearer {TOKEN}" for c in respx_mock.calls)
    query = first.calls[0].request.url.params
    assert query["patient"] == "p1" and "http://loinc.org|85319-2" in query["code"].split(",")
    card = by_topic(response.json()["cards"], "T1")  # HER2 status: IHC 3+
    assert "`Observation/her2-page2`" in card["detail"]  # found on the second page


def test_hapi_style_paging_links_on_the_base_are_followed(
    client: TestClient, complete: dict[str, Any], respx_mock: respx.MockRouter
) -> None:
    """HAPI pages as `{base}?_getpages=…&_getpagesoffset=…`, not under `{base}/Type`."""
    del complete["biomarkers"]
    page2 = f"{FHIR}?_getpages=abc&_getpagesoffset=100&_count=100&_bundletype=searchset"
    respx_mock.get(FHIR, params={"_getpages": "abc"}).respond(json=f.searchset([HER2_3PLUS]))
    respx_mock.get(f"{FHIR}/Observation").respond(json=f.searchset([], next_url=page2))

    response = post(client, f.hook_request("patient-view", prefetch=complete, fhir_server=FHIR, token=TOKEN))

    assert response.status_code == 200
    assert respx_mock.calls.call_count == 2
    assert "`Observation/her2-page2`" in response.json()["cards"][0]["detail"]


def test_prefetched_bundle_with_next_link_is_completed(
    client: TestClient, complete: dict[str, Any], respx_mock: respx.MockRouter
) -> None:
    complete["biomarkers"] = f.searchset([], next_url=f"{FHIR}/Observation?page=2")
    respx_mock.get(f"{FHIR}/Observation").respond(json=f.searchset([HER2_3PLUS]))

    response = post(client, f.hook_request("patient-view", prefetch=complete, fhir_server=FHIR, token=TOKEN))

    assert response.status_code == 200
    assert "`Observation/her2-page2`" in response.json()["cards"][0]["detail"]


def test_null_prefetch_means_no_data_and_is_not_queried(
    client: TestClient, complete: dict[str, Any], respx_mock: respx.MockRouter
) -> None:
    complete["biomarkers"] = None
    complete["patient"] = None

    response = post(client, f.hook_request("patient-view", prefetch=complete, fhir_server=FHIR, token=TOKEN))

    assert response.status_code == 200
    assert respx_mock.calls.call_count == 0
    assert "her2-missing" in topics(response.json()["cards"])


def test_operation_outcome_prefetch_is_fetched_again(
    client: TestClient, complete: dict[str, Any], respx_mock: respx.MockRouter
) -> None:
    complete["biomarkers"] = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]}
    route = respx_mock.get(f"{FHIR}/Observation").respond(json=f.searchset([HER2_3PLUS]))

    response = post(client, f.hook_request("patient-view", prefetch=complete, fhir_server=FHIR, token=TOKEN))

    assert response.status_code == 200
    assert route.call_count == 1
    assert response.json()["cards"][0]["indicator"] == "info"


def test_no_prefetch_fetches_everything_concurrently(client: TestClient, respx_mock: respx.MockRouter) -> None:
    in_flight, most = 0, 0

    async def fhir_server(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        if request.url.path.endswith("/Patient/p1"):
            return httpx.Response(200, json=f.patient())
        return httpx.Response(200, json=f.searchset([]))

    respx_mock.route(host="fhir.example.org").mock(side_effect=fhir_server)

    response = post(client, f.hook_request("patient-view", fhir_server=FHIR))

    assert response.status_code == 200
    assert respx_mock.calls.call_count == 7  # patient read + 6 searches
    assert most == 7  # all queries were in flight together
    assert all("Authorization" not in c.request.headers for c in respx_mock.calls)  # open server, no token given


def test_missing_patient_is_no_data_not_an_error(
    client: TestClient, complete: dict[str, Any], respx_mock: respx.MockRouter
) -> None:
    del complete["patient"]
    respx_mock.get(f"{FHIR}/Patient/p1").respond(404, json={"resourceType": "OperationOutcome", "issue": []})

    assert post(client, f.hook_request("patient-view", prefetch=complete, fhir_server=FHIR)).status_code == 200


def test_missing_key_without_fhir_server_is_412(client: TestClient, complete: dict[str, Any]) -> None:
    del complete["biomarkers"], complete["safety"]

    response = post(client, f.hook_request("patient-view", prefetch=complete))

    assert response.status_code == 412  # @54
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert [i["expression"] for i in body["issue"]] == [["prefetch.biomarkers"], ["prefetch.safety"]]


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500, json={"resourceType": "OperationOutcome", "issue": []}),
        httpx.Response(401),
        httpx.Response(200, text="<html>login</html>"),
        httpx.Response(200, json={"resourceType": "OperationOutcome", "issue": []}),
        httpx.ConnectError("refused"),
        httpx.PoolTimeout("no connection free"),
    ],
    ids=["500", "401", "html", "operation-outcome", "unreachable", "pool-busy"],
)
def test_fhir_failure_is_412_naming_the_key(
    client: TestClient, complete: dict[str, Any], respx_mock: respx.MockRouter, failure: Any
) -> None:
    del complete["conditions"]
    respx_mock.get(f"{FHIR}/Condition").mock(side_effect=[failure, failure])  # a connect error is retried once

    response = post(client, f.hook_request("patient-view", prefetch=complete, fhir_server=FHIR, token=TOKEN))

    assert response.status_code == 412
    (issue,) = response.json()["issue"]
    assert issue["expression"] == ["prefetch.conditions"]


def test_next_link_to_another_host_is_not_followed(
    client: TestClient, complete: dict[str, Any], respx_mock: respx.MockRouter
) -> None:
    del complete["biomarkers"]
    respx_mock.get(f"{FHIR}/Observation").respond(json=f.searchset([], next_url="https://attacker.example.net/steal"))
    attacker = respx_mock.route(host="attacker.example.net").respond(json=f.searchset([]))

    response = post(client, f.hook_request("patient-view", prefetch=complete, fhir_server=FHIR, token=TOKEN))

    assert response.status_code == 412
    assert attacker.call_count == 0  # the token never leaves the named fhirServer
    assert "outside fhirServer" in response.json()["issue"][0]["diagnostics"]


@pytest.fixture
def slow_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(
        create_app(settings.model_copy(update={"hook_deadline_seconds": 0.3, "fhir_request_timeout_seconds": 30}))
    ) as c:
        yield c


def test_deadline_bounds_a_hanging_fhir_server(
    slow_client: TestClient, complete: dict[str, Any], respx_mock: respx.MockRouter
) -> None:
    del complete["biomarkers"]

    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200, json=f.searchset([]))

    respx_mock.get(f"{FHIR}/Observation").mock(side_effect=hang)

    response = post(slow_client, f.hook_request("patient-view", prefetch=complete, fhir_server=FHIR))

    assert response.status_code == 412
    assert "deadline" in response.json()["issue"][0]["diagnostics"]


def test_page_cap_stops_paging_and_says_so(
    settings: Settings, complete: dict[str, Any], respx_mock: respx.MockRouter
) -> None:
    del complete["biomarkers"]
    respx_mock.get(f"{FHIR}/Observation").mock(
        side_effect=lambda request: httpx.Response(200, json=f.searchset([], next_url=f"{FHIR}/Observation?page=next"))
    )

    with TestClient(create_app(settings.model_copy(update={"fhir_max_pages": 3}))) as capped:
        response = post(capped, f.hook_request("patient-view", prefetch=complete, fhir_server=FHIR))

    assert response.status_code == 200
    assert respx_mock.calls.call_count == 3
    summaries = [c["summary"] for c in response.json()["cards"]]
    assert "Patient record only partly read: checks may miss results" in summaries


@pytest.mark.parametrize(
    ("server", "status"),
    [
        ("https://fhir.example.org/r4", 200),
        ("https://fhir.example.org.evil.net/r4", 412),
        ("https://other.example.org", 412),
    ],
)
def test_fhir_server_allowlist(
    settings: Settings, complete: dict[str, Any], respx_mock: respx.MockRouter, server: str, status: int
) -> None:
    del complete["patient"]
    respx_mock.get(f"{server}/Patient/p1").respond(json=f.patient())

    with TestClient(
        create_app(settings.model_copy(update={"fhir_server_allowlist": ["https://fhir.example.org/"]}))
    ) as guarded:
        response = post(guarded, f.hook_request("patient-view", prefetch=complete, fhir_server=server, token=TOKEN))

    assert response.status_code == status
    assert respx_mock.calls.call_count == (1 if status == 200 else 0)


def test_access_token_and_patient_data_never_reach_the_log(
    client: TestClient, complete: dict[str, Any], respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    del complete["biomarkers"]
    respx_mock.get(f"{FHIR}/Observation").respond(json=f.searchset([HER2_3PLUS]))
    caplog.set_level(logging.DEBUG)

    assert (
        post(client, f.hook_request("patient-view", prefetch=complete, fhir_server=FHIR, token=TOKEN)).status_code
        == 200
    )

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "POST /cds-services/her2-patient-view 200 " in logged and " data={'prefetch': 6, 'fhir': 1} " in logged
    for secret in (TOKEN, "3+", "her2-page2", "1970-05-01"):
        assert secret not in logged


def test_fhir_server_alias_routes_calls_and_links_to_the_service_side_name(
    settings: Settings, complete: dict[str, Any], respx_mock: respx.MockRouter
) -> None:
    """The EHR says http://localhost:8090/fhir; inside docker-compose the service reaches http://hapi:8080/fhir."""
    del complete["biomarkers"]
    respx_mock.get("http://hapi:8080/fhir/Observation", params={"page": "2"}).respond(json=f.searchset([HER2_3PLUS]))
    respx_mock.get("http://hapi:8080/fhir/Observation").respond(
        json=f.searchset([], next_url="http://localhost:8090/fhir/Observation?page=2")
    )
    aliased = settings.model_copy(
        update={"fhir_server_aliases": {"http://localhost:8090/fhir": "http://hapi:8080/fhir"}}
    )

    with TestClient(create_app(aliased)) as client:
        response = post(
            client, f.hook_request("patient-view", prefetch=complete, fhir_server="http://localhost:8090/fhir")
        )

    assert response.status_code == 200
    assert [c.request.url.host for c in respx_mock.calls] == ["hapi", "hapi"]
    assert "`Observation/her2-page2`" in response.json()["cards"][0]["detail"]


def test_settings_read_lists_and_aliases_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HER2_CDS_FHIR_SERVER_ALLOWLIST", "https://a.example.org/fhir, https://b.example.org")
    monkeypatch.setenv("HER2_CDS_FHIR_SERVER_ALIASES", "http://localhost:8090/fhir/=http://hapi:8080/fhir")
    monkeypatch.setenv("HER2_CDS_PORT", "9090")

    loaded = Settings()

    assert loaded.fhir_server_allowlist == ["https://a.example.org/fhir", "https://b.example.org"]
    assert loaded.fhir_server_aliases == {"http://localhost:8090/fhir": "http://hapi:8080/fhir"}
    assert loaded.port == 9090


def test_medication_statements_refused_by_the_server_cost_a_warning_not_the_hook(
    settings: Settings, complete: dict[str, Any], respx_mock: respx.MockRouter
) -> None:
    """Many servers do not offer MedicationStatement search: the cards say the history may be incomplete
    (with the HTTP status, because the server is allowlisted)."""
    del complete["medicationStatements"]
    respx_mock.get(f"{FHIR}/MedicationStatement").respond(403, json={"resourceType": "OperationOutcome", "issue": []})

    with TestClient(create_app(settings.model_copy(update={"fhir_server_allowlist": [FHIR]}))) as client:
        response = post(client, f.hook_request("patient-view", prefetch=complete, fhir_server=FHIR, token=TOKEN))

    assert response.status_code == 200
    card = by_topic(response.json()["cards"], "data-complete")
    assert card["indicator"] == "warning"
    assert "(medicationStatements)" in card["summary"] and "HTTP 403" in card["detail"]
