"""Operations: readiness, Prometheus metrics, request ids, the issued-cards record, and logs without PHI."""

import io
import json
import logging
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import respx
from fastapi.testclient import TestClient

from cds_service.app import create_app
from cds_service.config import Settings
from cds_service.ops.logs import JsonFormatter
from cds_service.store import Database, FeedbackStore, IssuedCards
from tests.api.test_client_auth import BASE, EC_KEY, EHR, with_trusted_clients
from tests.scenarios import records
from tests.utils import clinical as c
from tests.utils import factories as f

FHIR = "https://fhir.example.org/r4"


def _patient_view(client: TestClient, resources: list[dict[str, Any]]) -> dict[str, Any]:
    templates = dict(client.app.state.catalog["her2-patient-view"].prefetch)  # type: ignore[attr-defined]
    return f.hook_request("patient-view", prefetch=f.prefetch_for(templates, [c.patient(), *resources], "p1"))


def _sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one Prometheus sample; 0 when absent."""
    for line in metrics.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and all(f'{k}="{v}"' in match.group(1) for k, v in labels.items()):
            return float(match.group(2))
    return 0.0


def test_readyz_reports_data_and_database(client: TestClient) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"data": "ok", "database": "ok"}}


def test_readyz_is_503_when_the_database_cannot_be_reached(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "gone.sqlite3"
    with TestClient(create_app(settings.model_copy(update={"database_url": f"sqlite:///{path}"}))) as client:
        client.app.state.database.engine.dispose()  # type: ignore[attr-defined]
        path.unlink()
        path.mkdir()  # a folder where the database file was: no connection can open it

        response = client.get("/readyz")
        assert client.get("/healthz").status_code == 200  # alive, but not ready

    assert response.status_code == 503
    assert response.json()["checks"] == {"data": "ok", "database": "fail"}


def test_readyz_is_503_before_start_up_has_finished(settings: Settings) -> None:
    client = TestClient(create_app(settings))  # no `with`: the lifespan (database) has not run

    assert client.get("/readyz").status_code == 503


def test_metrics_count_requests_hooks_cards_feedback_and_fhir_calls(
    client: TestClient, respx_mock: respx.MockRouter
) -> None:
    before = client.get("/metrics").text
    respx_mock.get(url__startswith=FHIR).mock(
        side_effect=lambda request: (
            httpx.Response(503)
            if "Condition" in request.url.path
            else httpx.Response(200, json=f.searchset([]) if "?" in str(request.url) else c.patient())
        )
    )

    hook = client.post("/cds-services/her2-patient-view", json=_patient_view(client, records.her2_positive()))
    fallback = client.post(
        "/cds-services/her2-patient-view", json=f.hook_request("patient-view", fhir_server=FHIR, token="t")
    )
    card = hook.json()["cards"][0]["uuid"]
    feedback = {"feedback": [{"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-12-01T00:00:00Z"}]}
    assert client.post("/cds-services/her2-patient-view/feedback", json=feedback).status_code == 200
    client.post("/cds-services/no-such-service-" + uuid.uuid4().hex, json={})
    after = client.get("/metrics")

    assert after.headers["content-type"].startswith("text/plain")
    assert hook.status_code == 200 and fallback.status_code == 412
    text = after.text

    def delta(name: str, **labels: str) -> float:
        return _sample(text, name, **labels) - _sample(before, name, **labels)

    hook_labels = {"endpoint": "hook", "service": "her2-patient-view"}
    assert delta("her2_cds_http_requests_total", **hook_labels, status="200") == 1
    assert delta("her2_cds_http_requests_total", **hook_labels, status="412") == 1
    assert delta("her2_cds_http_requests_total", endpoint="hook", service="unknown", status="404") == 1
    assert delta("her2_cds_hook_duration_seconds_count", service="her2-patient-view") == 2
    rules = Counter((card["indicator"], card["source"]["topic"]["code"]) for card in hook.json()["cards"])
    for (indicator, rule), count in rules.items():  # each card counted once, under its own labels
        assert delta("her2_cds_cards_total", service="her2-patient-view", indicator=indicator, rule=rule) == count
    assert delta("her2_cds_feedback_total", service="her2-patient-view", outcome="overridden") == 1
    assert delta("her2_cds_fhir_request_duration_seconds_count", outcome="ok") >= 1
    assert delta("her2_cds_fhir_request_errors_total", outcome="http_5xx") >= 1
    assert "no-such-service" not in text  # labels stay bounded


def test_hook_answers_are_recorded_without_patient_data_and_feedback_links_to_their_rules(
    client: TestClient, settings: Settings
) -> None:
    body = _patient_view(client, records.her2_positive())

    response = client.post("/cds-services/her2-patient-view", json=body)

    assert response.headers["x-request-id"] == body["hookInstance"]
    first = response.json()["cards"][0]
    feedback = {"card": first["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-12-01T00:00:00Z"}
    assert client.post("/cds-services/her2-patient-view/feedback", json={"feedback": [feedback]}).status_code == 200
    database = Database(settings.database_url)
    [stored] = FeedbackStore(database).query(card_uuid=first["uuid"])
    shown = first.get("extension", {}).get("org.her2-cds.card", {}).get("rules", [])
    assert stored.rules[0] == first["source"]["topic"]["code"]  # feedback traced to the rule
    assert set(stored.rules) == {first["source"]["topic"]["code"], *shown}  # and to every row the card shows
    issued = IssuedCards(database)
    for card in response.json()["cards"]:
        recorded = issued.find(card["uuid"])
        assert recorded is not None
        assert recorded.service_id == "her2-patient-view"
        assert recorded.rules[0] == card["source"]["topic"]["code"]
        assert recorded.indicator == card["indicator"]
        assert recorded.knowledge_version == client.app.state.engine.version.label  # type: ignore[attr-defined]
    database.close()


def test_other_requests_get_a_generated_request_id(client: TestClient) -> None:
    first, second = client.get("/cds-services"), client.get("/cds-services")

    assert re.fullmatch(r"[0-9a-f]{32}", first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


# -- logs ------------------------------------------------------------------------------------------
NAME = ("Xiulan", "Qzhang-Testpatient")
MRN = "MRN-55501234"
FHIR_TOKEN = "fhir-access-token-Q8w7e6r5t4"
LVEF = 53.917
KI67 = 37.461
HER2_TEXT = "HER2 3+ specimen QX7731 reviewed"


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Everything logged anywhere, at every level, formatted as the service writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def _named_patient() -> dict[str, Any]:
    return {
        **c.patient(),
        "name": [{"family": NAME[1], "given": [NAME[0]]}],
        "identifier": [{"system": "urn:hospital:mrn", "value": MRN}],
        "telecom": [{"system": "phone", "value": "+86 138 0013 8000"}],
    }


def _scenario_records() -> list[list[dict[str, Any]]]:
    ki67 = c.observation("85330-9", {"valueQuantity": {"value": KI67, "unit": "%"}}, when=c.ago(days=30))
    return [
        [_named_patient(), *records.early_before_surgery(), c.lvef(LVEF, when=c.ago(days=10)), ki67],
        [_named_patient(), *records.after_neoadjuvant("ypT1", "ypN0")],
        [_named_patient(), *records.metastatic_after_first_line(hr=True)],
        [_named_patient(), *records.her2_low_metastatic(hr=True, chemo=True)],
        [_named_patient(), *records.on_trastuzumab((LVEF, 90), (44.0, 5))],
        [_named_patient(), c.breast_cancer(), c.her2_ihc_text(HER2_TEXT)],
    ]


def _client_jwt(path: str) -> str:
    now = int(time.time())
    claims = {"iss": EHR, "aud": BASE + path, "exp": now + 300, "iat": now, "jti": uuid.uuid4().hex}
    return jwt.encode(claims, EC_KEY, algorithm="ES384", headers={"kid": "ehr-1", "typ": "JWT"})


def test_logs_of_a_full_scenario_run_carry_request_ids_and_no_phi_or_tokens(
    settings: Settings, tmp_path: Path, log_lines: io.StringIO, respx_mock: respx.MockRouter
) -> None:
    configured = with_trusted_clients(settings, tmp_path).model_copy(update={"fhir_server_allowlist": [FHIR]})
    sent_jwts: list[str] = []
    instances: list[str] = []
    answers: list[str] = []
    fallback_record = _scenario_records()[0]

    def fhir_server(request: httpx.Request) -> httpx.Response:
        kind = request.url.path.split("/")[-1]  # a search: /r4/Observation?...
        if request.url.path.endswith("/Patient/p1"):
            return httpx.Response(200, json=_named_patient())
        return httpx.Response(200, json=f.searchset([r for r in fallback_record if r["resourceType"] == kind]))

    respx_mock.get(url__startswith=FHIR).mock(side_effect=fhir_server)

    def call(client: TestClient, path: str, body: dict[str, Any]) -> int:
        token = _client_jwt(path)
        sent_jwts.append(token)
        instances.append(body.get("hookInstance", ""))
        response = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
        answers.append(response.text)
        return response.status_code

    with TestClient(create_app(configured)) as client:
        templates = dict(client.app.state.catalog["her2-patient-view"].prefetch)  # type: ignore[attr-defined]
        statuses = []
        for record in _scenario_records():
            prefetch = f.prefetch_for(templates, record, "p1")
            for service, hook, extra in (
                ("her2-patient-view", "patient-view", {}),
                (
                    "her2-order-select",
                    "order-select",
                    {
                        "selections": ["MedicationRequest/mr-t"],
                        "draftOrders": f.draft_orders(c.order("trastuzumab", order_id="mr-t")),
                    },
                ),
            ):
                body = f.hook_request(hook, prefetch=prefetch, fhir_server=FHIR, token=FHIR_TOKEN, **extra)
                statuses.append(call(client, f"/cds-services/{service}", body))
        # No prefetch: everything is fetched from the FHIR server with the bearer token.
        statuses.append(
            call(
                client,
                "/cds-services/her2-patient-view",
                f.hook_request("patient-view", fhir_server=FHIR, token=FHIR_TOKEN),
            )
        )
        issued = json.loads(answers[0])["cards"][0]["uuid"]
        feedback = {
            "feedback": [
                {
                    "card": issued,
                    "outcome": "overridden",
                    "outcomeTimestamp": "2026-12-01T00:00:00Z",
                    "overrideReason": {"userComment": f"patient {NAME[1]} declined"},
                }
            ]
        }
        statuses.append(call(client, "/cds-services/her2-patient-view/feedback", feedback))
        statuses.append(client.get("/cds-services", headers={"Authorization": f"Bearer {sent_jwts[0]}"}).status_code)
        for probe in ("/healthz", "/readyz", "/metrics"):
            statuses.append(client.get(probe).status_code)

    assert statuses[:-5] == [200] * (len(statuses) - 5) and statuses[-4] == 401  # the replayed JWT is refused
    assert any(call.request.headers.get("Authorization") == f"Bearer {FHIR_TOKEN}" for call in respx_mock.calls)

    assert any(str(LVEF) in answer for answer in answers)  # results did flow through the service

    text = log_lines.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]  # one JSON object per line
    forbidden = [FHIR_TOKEN, *NAME, MRN, "138 0013", str(LVEF), str(KI67), "QX7731"]
    forbidden += [part for token in sent_jwts for part in (token, token.split(".")[2])]
    leaks = [word for word in forbidden if word in text]
    assert not leaks, leaks
    hook_lines = [line for line in lines if re.match(r"POST /cds-services/her2-[a-z-]+ 200 ", line["message"])]
    assert hook_lines and {line.get("request_id") for line in hook_lines} <= set(instances)  # named by hookInstance
    # One line per hook call: its access line also says what it answered, and no second line repeats it.
    assert all(re.search(r" cards=\d+ data=\{.*\} answer_ms=[\d.]+$", line["message"]) for line in hook_lines)
    assert not [line for line in lines if line["logger"] == "cds_service.hooks" and line["level"] == "INFO"]
    # Every line of the service carries a request id, but the start-up one saying the fresh database was migrated.
    start_up = [line for line in lines if line["message"].startswith("database schema upgraded")]
    assert len(start_up) == 1 and "request_id" not in start_up[0]
    served = [line for line in lines if line["logger"].startswith("cds_service") and line not in start_up]
    assert all(line.get("request_id") for line in served)
    probes = [line for line in lines if re.search(r"/(healthz|readyz|metrics) ", line["message"])]
    assert probes and all(line["level"] == "DEBUG" for line in probes)
    # Other requests' access lines end at their time: what a hook call adds is its own.
    others = [line for line in lines if re.match(r"(GET|POST) /(cds-services/?|.*/feedback) \d{3} ", line["message"])]
    assert others and all(re.search(r" \d{3} [\d.]+ms$", line["message"]) for line in others)
