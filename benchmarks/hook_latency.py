"""Hook latency with full prefetch vs. FHIR fallback, and the engine vs. validating everything.

Run from the repository root: `python -m benchmarks.hook_latency` (`make bench` is throughput.py). Only ratios
within one run mean anything; absolute milliseconds depend on the machine."""

import asyncio
import gc
import json
import logging
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

import httpx
from fastapi import FastAPI
from fhir.resources.R4B import get_fhir_model_class

from cds_service.app import create_app
from cds_service.catalog import ServiceSpec
from cds_service.config import Settings
from cds_service.examples import to_transaction
from cds_service.fhir import FhirClient, FhirError, PatientData, gather_patient_data
from cds_service.hooks.request import OrderSelectContext, PatientViewContext
from tests.utils import factories as f
from tests.utils.processes import stop

PATIENT_ID = "bench-1"
PATIENT_VIEW = "her2-patient-view"
ORDER_SELECT = "her2-order-select"
DRAFT_ID = "draft-trastuzumab"
FETCH_ONLY = "B fetch only (7 FHIR queries)"
SERVER_DIR = Path(__file__).resolve().parents[1] / "tests" / "fhir_server"
READY = "FHIR server listening on "

# Sized so the whole run stays well under a minute on 2 cores.
WARMUP = 10
PREFETCH_CALLS = 200
FALLBACK_WARMUP = 3  # a fallback call costs ~50 prefetch calls; a few suffice to open connections
FALLBACK_CALLS = 50
FETCH_ONLY_CALLS = 30
ENGINE_RUNS = 500
VALIDATE_ALL_RUNS = 20

UCUM = "http://unitsofmeasure.org"
IHC_2PLUS = f.coded(f.LOINC, "LA11842-4", "2+")
IHC_3PLUS = f.coded(f.LOINC, "LA11843-2", "3+")
POSITIVE = f.coded(f.LOINC, "LA6576-8", "Positive")
NEGATIVE = f.coded(f.LOINC, "LA6577-6", "Negative")
# Labs a code-filtered query never returns: (LOINC, unit, typical value).
LABS = (("718-7", "g/dL", 12.5), ("6690-2", "10*3/uL", 6.1), ("777-3", "10*3/uL", 240.0), ("2160-0", "mg/dL", 0.8))
# Orders on file: (RxNorm, name, how many).
ORDERS = (
    ("224905", "trastuzumab", 18),
    ("56946", "paclitaxel", 18),
    ("26225", "ondansetron", 12),
    ("3264", "dexamethasone", 12),
)
STATEMENTS = (("6809", "metformin", 8), ("83367", "atorvastatin", 7))

Row = tuple[str, int, float, float]  # scenario, calls, median ms, p95 ms


# --- synthetic patient --------------------------------------------------------------------------


def _day(i: int) -> str:
    return f"{2020 + i // 336}-{(i // 28) % 12 + 1:02d}-{i % 28 + 1:02d}"


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit}}


def synthetic_patient() -> list[dict[str, Any]]:
    """About 300 resources of one breast-cancer patient; most of them irrelevant to HER2 decisions."""

    def obs(i: int, code: str, value: dict[str, Any], day: int) -> dict[str, Any]:
        return f.observation(f"obs-{i}", code, patient_id=PATIENT_ID, value=value, date=_day(day))

    resources = [f.patient(PATIENT_ID), f.breast_cancer("bc-1", PATIENT_ID)]
    resources += [obs(i, "85319-2", IHC_3PLUS if i % 2 else IHC_2PLUS, 30 * i) for i in range(6)]
    resources += [obs(i, "85318-4", POSITIVE, 30 * i + 10) for i in range(6, 10)]
    resources += [obs(10, "85337-4", POSITIVE, 5), obs(11, "85339-0", NEGATIVE, 5)]
    resources += [obs(12, "85337-4", POSITIVE, 200), obs(13, "85339-0", NEGATIVE, 200)]
    resources += [obs(i, "21908-9", {"valueCodeableConcept": {"text": "Stage IIA"}}, i) for i in range(14, 17)]
    resources += [obs(i, "10230-1", _quantity(60.0 - i % 5, "%"), 40 * i) for i in range(17, 23)]
    for i in range(23, 223):
        code, unit, value = LABS[i % len(LABS)]
        resources.append(obs(i, code, _quantity(value, unit), i))
    n = 0
    for rxnorm, name, count in ORDERS:
        for _ in range(count):
            order = f.medication_request(f"mr-{n}", code=rxnorm, text=name, patient_id=PATIENT_ID)
            resources.append({**order, "status": "completed", "authoredOn": _day(7 * n)})
            n += 1
    for rxnorm, name, count in STATEMENTS:
        for _ in range(count):
            resources.append(
                {
                    "resourceType": "MedicationStatement",
                    "id": f"ms-{n}",
                    "status": "active",
                    "medicationCodeableConcept": {"coding": [{"system": f.RXNORM, "code": rxnorm, "display": name}]},
                    "subject": {"reference": f"Patient/{PATIENT_ID}"},
                }
            )
            n += 1
    return resources


def hook_bodies(prefetch: dict[str, Any] | None, fhir_base: str | None) -> dict[str, bytes]:
    """Request bodies encoded once, so the timings measure the service, not client-side JSON."""
    draft = f.medication_request(DRAFT_ID, patient_id=PATIENT_ID)
    bodies = {
        PATIENT_VIEW: f.hook_request("patient-view", patient_id=PATIENT_ID, prefetch=prefetch, fhir_server=fhir_base),
        ORDER_SELECT: f.hook_request(
            "order-select",
            patient_id=PATIENT_ID,
            prefetch=prefetch,
            fhir_server=fhir_base,
            draftOrders=f.draft_orders(draft),
            selections=[f"MedicationRequest/{DRAFT_ID}"],
        ),
    }
    return {service: json.dumps(body).encode() for service, body in bodies.items()}


# --- timing -------------------------------------------------------------------------------------


def summary(name: str, samples_ms: list[float]) -> Row:
    p95 = statistics.quantiles(samples_ms, n=20, method="inclusive")[18]
    return name, len(samples_ms), statistics.median(samples_ms), p95


def time_sync(fn: Callable[[], object], runs: int, warmup: int = WARMUP) -> list[float]:
    gc.collect()  # garbage left by an earlier scenario would otherwise be collected on this one's clock
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def time_async(fn: Callable[[], Awaitable[object]], runs: int, warmup: int = WARMUP) -> list[float]:
    gc.collect()
    for _ in range(warmup):
        await fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


# --- FHIR server --------------------------------------------------------------------------------


def _await_ready(process: subprocess.Popen[str], timeout: float) -> str:
    # readline() blocks forever if Node hangs before printing; a daemon thread bounds the wait.
    found: list[str] = []
    reader = threading.Thread(
        target=lambda: found.append(process.stdout.readline() if process.stdout else ""), daemon=True
    )
    reader.start()
    reader.join(timeout)
    if not found or not found[0].startswith(READY):
        raise RuntimeError(f"FHIR server did not start: {found[:1]!r}")
    return found[0].removeprefix(READY).strip()


@contextmanager
def fhir_server() -> Iterator[str]:
    """The in-memory test FHIR server on 127.0.0.1; yields its base URL."""
    if shutil.which("node") is None:
        raise SystemExit("Node.js 20 is needed for the FHIR fallback scenario (see tests/fhir_server/README.md)")
    if not (SERVER_DIR / "node_modules" / "@medplum" / "fhir-router").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=SERVER_DIR, check=True, timeout=300)
    process = subprocess.Popen(
        ["node", "server.mjs", "--port", "0"],
        cwd=SERVER_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # one line per request: noise here
        text=True,
    )
    try:
        yield _await_ready(process, timeout=30)
    finally:
        stop(process, timeout=10)
        if process.stdout:
            process.stdout.close()


def load_patient(base: str, resources: list[dict[str, Any]]) -> None:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
    transaction, warnings = to_transaction(bundle)
    if warnings:
        raise RuntimeError(f"synthetic patient is not valid FHIR: {warnings[:3]}")
    response = httpx.post(base, json=transaction, headers={"Content-Type": "application/fhir+json"}, timeout=60)
    response.raise_for_status()
    failed = [e["response"]["status"] for e in response.json()["entry"] if not e["response"]["status"].startswith("2")]
    if failed:
        raise RuntimeError(f"FHIR server rejected {len(failed)} resources: {failed[:3]}")


# --- scenarios ----------------------------------------------------------------------------------


def _templates(app: FastAPI) -> dict[str, str]:
    catalog: dict[str, ServiceSpec] = dict(app.state.catalog)
    return dict(catalog[PATIENT_VIEW].prefetch)


async def _time_hooks(
    client: httpx.AsyncClient, label: str, bodies: dict[str, bytes], runs: int, warmup: int
) -> list[Row]:
    rows = []
    summaries: dict[str, list[str]] = {}
    for service, body in bodies.items():

        async def call(service: str = service, body: bytes = body) -> httpx.Response:
            response = await client.post(
                f"/cds-services/{service}", content=body, headers={"Content-Type": "application/json"}
            )
            if response.status_code != 200:
                raise RuntimeError(f"{service} answered {response.status_code}: {response.text[:300]}")
            summaries[service] = [card["summary"] for card in response.json()["cards"]]
            return response

        rows.append(summary(f"{label} {service}", await time_async(call, runs, warmup)))
    print(f"  {label} cards: {summaries}")
    return rows


async def hook_scenarios(app: FastAPI, resources: list[dict[str, Any]], fhir_base: str) -> list[Row]:
    prefetch = f.prefetch_for(_templates(app), resources, PATIENT_ID)
    # ASGITransport does not run the lifespan; the app's store and outbound client live in it.
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            rows = await _time_hooks(client, "A prefetch", hook_bodies(prefetch, None), PREFETCH_CALLS, WARMUP)
            rows += await _time_hooks(
                client, "B fallback", hook_bodies(None, fhir_base), FALLBACK_CALLS, FALLBACK_WARMUP
            )
        # The fetch stage alone, on the app's own pool: how much of B is the FHIR server's time.
        settings: Settings = app.state.settings
        fhir = FhirClient(
            app.state.http,
            fhir_base,
            None,
            timeout=settings.fhir_request_timeout_seconds,
            max_pages=settings.fhir_max_pages,
        )
        templates, context = _templates(app), {"patientId": PATIENT_ID}
        fetch = lambda: gather_patient_data(templates, context, None, lambda: fhir, 5.0)  # noqa: E731
        rows.append(summary(FETCH_ONLY, await time_async(fetch, FETCH_ONLY_CALLS, FALLBACK_WARMUP)))
    return rows


def _no_fhir() -> NoReturn:
    raise FhirError("benchmark: complete prefetch expected")


def engine_rows(app: FastAPI, resources: list[dict[str, Any]]) -> list[Row]:
    catalog: dict[str, ServiceSpec] = dict(app.state.catalog)
    today = date.today()
    templates = _templates(app)
    prefetch = f.prefetch_for(templates, resources, PATIENT_ID)
    no_fhir: Callable[[], FhirClient] = _no_fhir
    data = asyncio.run(gather_patient_data(templates, {"patientId": PATIENT_ID}, prefetch, no_fhir, 5.0))
    # The same engine on an unfiltered record: every Observation, labs included, under one key.
    everything = PatientData(
        resources={**data.resources, "biomarkers": tuple(r for r in resources if r["resourceType"] == "Observation")},
        origin=data.origin,
    )
    user = "Practitioner/pr-1"
    view = PatientViewContext(userId=user, patientId=PATIENT_ID)
    select = OrderSelectContext(
        userId=user,
        patientId=PATIENT_ID,
        selections=[f"MedicationRequest/{DRAFT_ID}"],
        draftOrders=f.draft_orders(f.medication_request(DRAFT_ID, patient_id=PATIENT_ID)),
    )
    patient_view, order_select = catalog[PATIENT_VIEW].evaluate, catalog[ORDER_SELECT].evaluate
    models = [(get_fhir_model_class(r["resourceType"]), r) for r in resources]
    print(
        f"  engine input: {sum(map(len, data.resources.values()))} of {len(resources)} resources prefetched; "
        f"unfiltered: all {len(everything.resources['biomarkers'])} Observations under 'biomarkers'"
    )
    return [
        summary("engine patient-view", time_sync(lambda: patient_view(view, data, "en", today), ENGINE_RUNS)),
        summary("engine order-select", time_sync(lambda: order_select(select, data, "en", today), ENGINE_RUNS)),
        summary(
            "engine patient-view, unfiltered",
            time_sync(lambda: patient_view(view, everything, "en", today), ENGINE_RUNS),
        ),
        summary(
            f"validate all {len(resources)} (R4B)",
            time_sync(lambda: [model.model_validate(r) for model, r in models], VALIDATE_ALL_RUNS),
        ),
    ]


# --- report -------------------------------------------------------------------------------------


def print_table(rows: list[Row]) -> None:
    median = {name: m for name, _, m, _ in rows}
    reference = median[f"A prefetch {PATIENT_VIEW}"]
    print(f"\n{'scenario':<38} {'calls':>6} {'median ms':>10} {'p95 ms':>8} {'vs A patient-view':>18}")
    for name, calls, med, p95 in rows:
        print(f"{name:<38} {calls:>6} {med:>10.2f} {p95:>8.2f} {med / reference:>17.2f}x")

    validate_all = next(m for name, m in median.items() if name.startswith("validate all"))
    ratios = [
        ("fallback / prefetch, patient-view", median[f"B fallback {PATIENT_VIEW}"] / reference),
        (
            "fallback / prefetch, order-select",
            median[f"B fallback {ORDER_SELECT}"] / median[f"A prefetch {ORDER_SELECT}"],
        ),
        ("fetch only / fallback, patient-view", median[FETCH_ONLY] / median[f"B fallback {PATIENT_VIEW}"]),
        ("engine / prefetch hook call, patient-view", median["engine patient-view"] / reference),
        ("engine / validate-all, patient-view", median["engine patient-view"] / validate_all),
        ("engine / validate-all, order-select", median["engine order-select"] / validate_all),
        ("engine unfiltered / validate-all", median["engine patient-view, unfiltered"] / validate_all),
    ]
    print()
    for label, ratio in ratios:
        print(f"{label:<44} = {ratio:.2f}x")


def main() -> None:
    logging.getLogger("cds_service").setLevel(logging.WARNING)
    started = time.perf_counter()
    resources = synthetic_patient()
    print(f"synthetic patient {PATIENT_ID}: {len(resources)} resources")
    with tempfile.TemporaryDirectory() as tmp, fhir_server() as base:
        load_patient(base, resources)
        # Allowlisting the local server runs the service as recommended for production.
        app = create_app(
            Settings(database_url=f"sqlite:///{Path(tmp) / 'feedback.sqlite3'}", fhir_server_allowlist=[base])
        )
        rows = asyncio.run(hook_scenarios(app, resources, base))
    rows += engine_rows(app, resources)
    print_table(rows)
    print(f"\ntotal {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
