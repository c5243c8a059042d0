"""The worst requests known (issue 8), against a real server on 127.0.0.1, with /healthz polled meanwhile.

    .venv/bin/python -m benchmarks.hostile_requests

Starts `her2-cds serve` and a stub FHIR server (both on loopback), sends each attack once, and prints its
status, its time, and the slowest /healthz answer while it ran. Nothing leaves the machine."""

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from tests.utils import factories as f

DEADLINE = 5.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Fhir(BaseHTTPRequestHandler):
    """Answers every search with a page of HER2 Observations and a next link; every read with a Medication."""

    def do_GET(self) -> None:  # noqa: N802
        base = f"http://127.0.0.1:{self.server.server_address[1]}/fhir"
        if "/Medication/" in self.path:
            body: dict[str, Any] = {"resourceType": "Medication", "code": {"text": "trastuzumab"}}
        elif "/Patient/" in self.path:
            body = f.patient()
        else:
            obs = [f.observation(f"o{i}", "85319-2", value={"valueString": "2+"}) for i in range(100)]
            body = f.searchset(obs, next_url=f"{base}/Observation?page={uuid.uuid4().hex}")
        raw = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: Any) -> None:
        pass


def _templates(base: str) -> dict[str, str]:
    services = httpx.get(f"{base}/cds-services").json()["services"]
    return dict(next(s for s in services if s["id"] == "her2-patient-view")["prefetch"])


def _attacks(templates: dict[str, str], fhir: str) -> dict[str, tuple[str, dict[str, Any]]]:
    def stage(text: str) -> dict[str, Any]:
        record = [f.patient(), f.breast_cancer(), f.observation("s", "21906-3", value={"valueString": text})]
        return f.hook_request("patient-view", prefetch=f.prefetch_for(templates, record, "p1"))

    def by_reference(count: int) -> dict[str, Any]:
        orders = []
        for i in range(count):
            order = f.medication_request(f"mr{i}")
            del order["medicationCodeableConcept"]
            order["medicationReference"] = {"reference": f"Medication/m{i}"}
            orders.append(order)
        return f.hook_request(
            "order-sign",
            prefetch=f.prefetch_for(templates, [f.patient()], "p1"),
            fhir_server=fhir,
            draftOrders=f.draft_orders(*orders),
        )

    many = [f.observation(f"o{i}", "85319-2", value={"valueString": "2+"}) for i in range(6000)]
    many += [f.observation(f"s{i}", "21906-3", value={"valueString": "N1"}) for i in range(3000)]
    many += [f.observation(f"l{i}", "10230-1", value={"valueQuantity": {"value": 55}}) for i in range(3000)]
    return {
        "166 kB stage text": ("her2-patient-view", stage("n0" + " " * 166_000 + "()")),
        "4,000 draft orders by Medication reference": ("her2-order-sign", by_reference(4000)),
        "200 draft orders by reference, FHIR server": ("her2-order-sign", by_reference(200)),
        "12,000 prefetched Observations (capped)": (
            "her2-patient-view",
            f.hook_request("patient-view", prefetch=f.prefetch_for(templates, [f.patient(), *many], "p1")),
        ),
        "200 trastuzumab orders to check (order-sign)": (
            "her2-order-sign",
            f.hook_request(
                "order-sign",
                prefetch=f.prefetch_for(templates, [f.patient(), f.breast_cancer()], "p1"),
                draftOrders=f.draft_orders(*[f.medication_request(f"mr{i}") for i in range(200)]),
            ),
        ),
        "no prefetch, endless paging from FHIR server": (
            "her2-patient-view",
            f.hook_request("patient-view", fhir_server=fhir),
        ),
    }


def _poll(base: str, stop: threading.Event, worst: list[float]) -> None:
    with httpx.Client() as client:
        while not stop.is_set():
            started = time.perf_counter()
            client.get(f"{base}/healthz")
            worst[0] = max(worst[0], time.perf_counter() - started)
            time.sleep(0.02)


def _measure(call: Callable[[], httpx.Response], base: str) -> tuple[int, float, float]:
    stop, worst = threading.Event(), [0.0]
    poller = threading.Thread(target=_poll, args=(base, stop, worst))
    poller.start()
    started = time.perf_counter()
    status = call().status_code
    elapsed = time.perf_counter() - started
    stop.set()
    poller.join()
    return status, elapsed, worst[0]


def main() -> int:
    fhir_server = ThreadingHTTPServer(("127.0.0.1", 0), _Fhir)
    threading.Thread(target=fhir_server.serve_forever, daemon=True).start()
    fhir = f"http://127.0.0.1:{fhir_server.server_address[1]}/fhir"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "HER2_CDS_DATABASE_URL": f"sqlite:///{tmp}/feedback.sqlite3",
            "HER2_CDS_FHIR_SERVER_ALLOWLIST": fhir,
            "HER2_CDS_HOOK_DEADLINE_SECONDS": str(DEADLINE),
            "HER2_CDS_LOG_LEVEL": "WARNING",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "cds_service", "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL
        )
        try:
            for _ in range(100):
                try:
                    httpx.get(f"{base}/healthz")
                    break
                except httpx.HTTPError:
                    time.sleep(0.2)
            templates = _templates(base)
            print(f"hook deadline {DEADLINE:g} s (+1 s engine margin)")
            print(f"{'attack':48} {'status':>6} {'time':>8} {'worst /healthz':>15}")
            with httpx.Client(timeout=120) as client:
                for name, (service, body) in _attacks(templates, fhir).items():
                    raw = json.dumps(body).encode()
                    status, elapsed, health = _measure(
                        lambda s=service, r=raw: client.post(  # type: ignore[misc]
                            f"{base}/cds-services/{s}", content=r, headers={"Content-Type": "application/json"}
                        ),
                        base,
                    )
                    print(f"{name:48} {status:>6} {elapsed:>7.2f}s {health * 1000:>13.0f}ms")
        finally:
            server.terminate()
            server.wait(timeout=10)
            fhir_server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
