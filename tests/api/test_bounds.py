"""Bounded work per request (issue 8): each known attack, reproduced, gets a bounded and correct answer.

Times are asserted only as generous safety bounds relative to the configured deadline, never as benchmarks."""

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cds_service.app import create_app
from cds_service.clinical import staging
from cds_service.config import Settings
from tests.utils import factories as f
from tests.utils.cards import by_topic, topics

FHIR = "https://fhir.example.org/r4"
HUGE = 166_000  # the size of the stage text that blocked the service for 21 s


def _stage_observation(code: str, text: str) -> dict[str, Any]:
    return f.observation("stage", code, value={"valueString": text})


@pytest.fixture(scope="module")
def bounded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    database = tmp_path_factory.mktemp("bounds") / "feedback.sqlite3"
    configured = Settings(database_url=f"sqlite:///{database}", hook_deadline_seconds=1.0)
    with TestClient(create_app(configured)) as client:
        yield client


@pytest.fixture(scope="module")
def templates(bounded: TestClient) -> dict[str, str]:
    return dict(bounded.app.state.catalog["her2-patient-view"].prefetch)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("21906-3", "n0" + " " * HUGE + "()"),  # `\s*\(` searched at every position: quadratic before
        ("21906-3", "n1 (" + "(" * HUGE + ")"),
        ("21908-9", "stage " * (HUGE // 6)),
        ("85319-2", "1" + " +" * (HUGE // 2)),  # a HER2 result text through the result patterns
        ("85319-2", "her2 " * (HUGE // 5) + "3+"),
    ],
    ids=["n-spaces", "n-parens", "stage-words", "ihc-pluses", "ihc-words"],
)
def test_huge_result_and_stage_texts_are_answered_within_the_deadline(
    bounded: TestClient, templates: dict[str, str], code: str, text: str
) -> None:
    resources = [f.patient(), f.breast_cancer(), _stage_observation(code, text)]
    body = f.hook_request("patient-view", prefetch=f.prefetch_for(templates, resources, "p1"))

    started = time.perf_counter()
    response = bounded.post("/cds-services/her2-patient-view", json=body)

    assert response.status_code == 200
    assert time.perf_counter() - started < 3.0  # deadline 1 s; safety bound only


def test_tnm_categories_are_parsed_in_linear_time_even_without_the_length_cap() -> None:
    started = time.perf_counter()
    assert staging._category_value("N0" + " " * 200_000 + "(i+)") == "N0(i+)"
    assert time.perf_counter() - started < 1.0  # quadratic took ~20 s here


def test_the_length_cap_leaves_real_staging_texts_alone() -> None:
    parsed = staging.parse_staging_text("ypN1mi (i+)", "n-category")
    assert parsed is not None and (parsed.prefix, parsed.value) == ("yp", "N1mi(i+)")
    assert staging.parse_staging_text("Stage IIIA", "stage-group") is not None
    assert staging.parse_staging_text("x" * (staging.MAX_STAGING_TEXT + 1), "stage-group") is None


def _by_reference(count: int) -> tuple[list[dict[str, Any]], list[str]]:
    orders = []
    for i in range(count):
        order = f.medication_request(f"mr{i}")
        del order["medicationCodeableConcept"]
        order["medicationReference"] = {"reference": f"Medication/m{i}"}
        orders.append(order)
    return orders, [f"MedicationRequest/mr{i}" for i in range(count)]


def test_4000_draft_orders_are_refused_with_413_naming_the_field(
    bounded: TestClient, templates: dict[str, str], respx_mock: respx.MockRouter
) -> None:
    orders, selections = _by_reference(4000)
    body = f.hook_request(
        "order-select",
        prefetch=f.prefetch_for(templates, [f.patient()], "p1"),
        fhir_server=FHIR,
        selections=selections,
        draftOrders=f.draft_orders(*orders),
    )

    started = time.perf_counter()
    response = bounded.post("/cds-services/her2-order-select", json=body)

    assert response.status_code == 413
    assert response.json()["issue"][0]["expression"] == ["context.draftOrders"]
    assert respx_mock.calls.call_count == 0
    assert time.perf_counter() - started < 3.0


def test_medication_reads_are_capped_and_the_rest_is_said_on_cards(
    settings: Settings, templates: dict[str, str], respx_mock: respx.MockRouter
) -> None:
    """200 orders naming their drug by reference (the cap), against a FHIR server: 5 reads, a card on the rest."""
    medication = {"resourceType": "Medication", "code": {"coding": [{"system": f.RXNORM, "code": "224905"}]}}
    respx_mock.get(url__regex=rf"{FHIR}/Medication/m\d+").respond(json=medication)
    orders, selections = _by_reference(200)
    body = f.hook_request(
        "order-sign",
        prefetch=f.prefetch_for(templates, [f.patient()], "p1"),
        fhir_server=FHIR,
        draftOrders=f.draft_orders(*orders),
    )
    capped = settings.model_copy(update={"max_medication_reads": 5, "hook_deadline_seconds": 1.0})

    with TestClient(create_app(capped)) as client:
        started = time.perf_counter()
        response = client.post("/cds-services/her2-order-sign", json=body)
        elapsed = time.perf_counter() - started

    assert response.status_code == 200
    assert respx_mock.calls.call_count == 5
    (unread,) = [c for c in response.json()["cards"] if "more than 5 orders" in c["detail"]]
    assert "MedicationRequest/mr199" in unread["detail"]  # one card, listing the orders it is about
    assert elapsed < 3.0


def test_resources_per_key_are_capped_and_the_cards_say_the_record_was_cut(
    settings: Settings, templates: dict[str, str]
) -> None:
    labs = [f.observation(f"o{i}", "85319-2", value={"valueString": "1+"}) for i in range(50)]
    prefetch = f.prefetch_for(templates, [f.patient(), f.breast_cancer(), *labs], "p1")

    with TestClient(create_app(settings.model_copy(update={"max_resources_per_key": 10}))) as client:
        cards = client.post("/cds-services/her2-patient-view", json=f.hook_request("patient-view", prefetch=prefetch))

    assert cards.status_code == 200
    card = by_topic(cards.json()["cards"], "data-complete")
    assert "biomarkers" in card["detail"]


def test_a_paged_search_stops_at_the_resource_cap(
    settings: Settings, templates: dict[str, str], respx_mock: respx.MockRouter
) -> None:
    page = f.searchset([f.observation(f"o{i}", "85319-2") for i in range(10)], next_url=f"{FHIR}/Observation?p=2")
    route = respx_mock.get(f"{FHIR}/Observation").respond(json=page)
    prefetch = f.prefetch_for(templates, [f.patient(), f.breast_cancer()], "p1")
    del prefetch["biomarkers"]
    body = f.hook_request("patient-view", prefetch=prefetch, fhir_server=FHIR)

    with TestClient(create_app(settings.model_copy(update={"max_resources_per_key": 25}))) as client:
        response = client.post("/cds-services/her2-patient-view", json=body)

    assert response.status_code == 200
    assert route.call_count == 3  # 10 + 10 + 10 ≥ 25: paging stops there, not at the page cap of 20
    assert "data-complete" in topics(response.json()["cards"])


@pytest.mark.anyio
async def test_healthz_answers_while_the_rules_run(settings: Settings, templates: dict[str, str]) -> None:
    """The rules of a record above the inline bound run in a worker thread: a slow evaluation does not hold the
    event loop."""
    app = create_app(settings.model_copy(update={"engine_inline_resources": 2}))
    spec = app.state.catalog["her2-patient-view"]

    def slow(*args: Any) -> list[Any]:
        time.sleep(1.0)
        return []

    object.__setattr__(spec, "evaluate", slow)
    record = [f.patient(), f.breast_cancer(), f.observation("o1", "85319-2")]  # 3 resources: one over the bound
    body = f.hook_request("patient-view", prefetch=f.prefetch_for(templates, record, "p1"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            hook = asyncio.create_task(client.post("/cds-services/her2-patient-view", json=body))
            await asyncio.sleep(0.2)
            started = time.perf_counter()
            health = await client.get("/healthz")
            health_latency = time.perf_counter() - started
            assert not hook.done()
            assert (await hook).status_code == 200

    assert health.status_code == 200
    assert health_latency < 0.5  # the hook still had ~0.8 s of rules to run


def test_rules_over_budget_give_413_not_a_hang(settings: Settings, templates: dict[str, str]) -> None:
    app = create_app(settings.model_copy(update={"hook_deadline_seconds": 0.2, "engine_inline_resources": 0}))
    object.__setattr__(app.state.catalog["her2-patient-view"], "evaluate", lambda *a: time.sleep(3) or [])
    body = f.hook_request("patient-view", prefetch=f.prefetch_for(templates, [f.patient()], "p1"))

    with TestClient(app) as client:
        started = time.perf_counter()
        response = client.post("/cds-services/her2-patient-view", json=body)
        elapsed = time.perf_counter() - started

    assert response.status_code == 413
    assert response.json()["issue"][0]["code"] == "too-costly"
    assert elapsed < 2.5  # deadline 0.2 s + the 1 s engine margin


def _note_threads(app: FastAPI, service_id: str) -> list[str]:
    """The name of the thread each evaluation of `service_id` runs in, in call order."""
    spec = app.state.catalog[service_id]
    threads: list[str] = []
    real = spec.evaluate

    def noting(*args: Any) -> list[Any]:
        threads.append(threading.current_thread().name)
        return real(*args)

    object.__setattr__(spec, "evaluate", noting)
    return threads


def test_a_small_record_is_evaluated_on_the_event_loop(settings: Settings, templates: dict[str, str]) -> None:
    """At or under the inline bound the rules run in the calling thread (no hand-over to the engine threads)."""
    app = create_app(settings.model_copy(update={"engine_inline_resources": 1000}))
    threads = _note_threads(app, "her2-patient-view")
    record = [f.patient(), f.breast_cancer(), f.observation("o1", "85319-2")]
    body = f.hook_request("patient-view", prefetch=f.prefetch_for(templates, record, "p1"))
    with TestClient(app) as client:
        assert client.post("/cds-services/her2-patient-view", json=body).status_code == 200
        object.__setattr__(app.state.settings, "engine_inline_resources", 2)
        assert client.post("/cds-services/her2-patient-view", json=body).status_code == 200

    assert not threads[0].startswith("her2-engine")
    assert threads[1].startswith("her2-engine")


@pytest.mark.parametrize(("orders", "in_thread"), [(20, False), (21, True)])
def test_many_draft_orders_send_the_rules_to_the_engine_threads(
    settings: Settings, templates: dict[str, str], orders: int, in_thread: bool
) -> None:
    """Orders are checked against each other: past an order set's size, a small record's rules leave the loop."""
    app = create_app(settings)
    threads = _note_threads(app, "her2-order-sign")
    drafts = f.draft_orders(*(f.medication_request(f"mr{i}") for i in range(orders)))
    body = f.hook_request(
        "order-sign", prefetch=f.prefetch_for(templates, [f.patient(), f.breast_cancer()], "p1"), draftOrders=drafts
    )
    with TestClient(app) as client:
        assert client.post("/cds-services/her2-order-sign", json=body).status_code == 200

    assert threads[0].startswith("her2-engine") is in_thread
