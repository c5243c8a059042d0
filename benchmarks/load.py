"""Load and soak: mixed hook and feedback traffic against a real uvicorn server on 127.0.0.1.

`make load` (or `python -m benchmarks.load`). Bounded: it stops after LOAD_SECONDS (default 60) or
LOAD_MAX_REQUESTS (default 2,000,000), whichever comes first, and stops the server it started.
It prints errors, latency percentiles, throughput, the server's RSS growth, and feedback accepted vs stored."""

import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from cds_service.config import REPO_ROOT
from cds_service.store import FeedbackStore
from tests.utils import clinical as c
from tests.utils import factories as f
from tests.utils.processes import stop

HOST = "127.0.0.1"  # loopback only, always
CLIENTS = 16
START_TIMEOUT_SECONDS = 60.0


@dataclass
class Report:
    seconds: float
    requests: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    feedback_accepted: int = 0
    feedback_stored: int = 0
    rss_start_kb: int = 0
    rss_end_kb: int = 0
    rss_peak_kb: int = 0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def lines(self) -> list[str]:
        everything = sorted(v for values in self.latencies.values() for v in values)
        out = [
            f"duration {self.seconds:.1f} s, {CLIENTS} concurrent clients, {self.requests} requests, "
            f"{self.requests / self.seconds:.1f} req/s",
            f"errors {self.error_count}" + (f" {dict(self.errors)}" if self.errors else ""),
            f"{'kind':<14}{'n':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}",
        ]
        for kind, values in sorted(self.latencies.items()) + [("all", everything)]:
            ordered = sorted(values)
            out.append(
                f"{kind:<14}{len(ordered):>8}{_pct(ordered, 50):>9.1f}{_pct(ordered, 95):>9.1f}"
                f"{_pct(ordered, 99):>9.1f}{(ordered[-1] if ordered else 0):>9.1f}"
            )
        out.append(
            f"server RSS {self.rss_start_kb / 1024:.1f} MB after warm-up -> {self.rss_end_kb / 1024:.1f} MB at the end "
            f"(+{(self.rss_end_kb - self.rss_start_kb) / 1024:.1f} MB), peak {self.rss_peak_kb / 1024:.1f} MB"
        )
        out.append(f"feedback accepted {self.feedback_accepted}, stored {self.feedback_stored}")
        return out


def _pct(ordered: list[float], percent: int) -> float:
    if not ordered:
        return 0.0
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[percent - 1]


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


# -- traffic ---------------------------------------------------------------------------------------
def _bodies(templates: dict[str, str]) -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, service, body) for a spread of clinical situations, with full prefetch."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the scenario helpers import starlette's TestClient, which warns
        from tests.scenarios import records

    situations = [
        records.early_before_surgery(),
        records.after_neoadjuvant("ypT1", "ypN1"),
        records.metastatic_after_first_line(hr=True),
        records.her2_low_metastatic(hr=True, chemo=True),
        records.on_trastuzumab((62.0, 200), (48.0, 10)),
        records.her2_zero(metastatic=True, hr=True),
    ]
    bodies: list[tuple[str, str, dict[str, Any]]] = []
    for record in situations:
        prefetch = f.prefetch_for(templates, [c.patient(), *record], "p1")
        bodies.append(("patient-view", "her2-patient-view", f.hook_request("patient-view", prefetch=prefetch)))
        order = c.order("trastuzumab", order_id="mr-load")
        bodies.append(
            (
                "order-select",
                "her2-order-select",
                f.hook_request(
                    "order-select",
                    prefetch=prefetch,
                    selections=["MedicationRequest/mr-load"],
                    draftOrders=f.draft_orders(order),
                ),
            )
        )
        bodies.append(
            (
                "order-sign",
                "her2-order-sign",
                f.hook_request("order-sign", prefetch=prefetch, draftOrders=f.draft_orders(order)),
            )
        )
    return bodies


async def _traffic(base: str, seconds: float, max_requests: int, pid: int, report: Report) -> None:
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30.0) as http:
        services = (await http.get("/cds-services")).json()["services"]
        templates = next(s["prefetch"] for s in services if s["id"] == "her2-patient-view")
        bodies = _bodies(templates)
        # Feedback names cards the service answered, each at the service that answered it (any other is refused).
        cards: dict[str, list[str]] = {}
        issued = 0

        async def hook(kind: str, service: str, body: dict[str, Any]) -> None:
            response = await http.post(f"/cds-services/{service}", json={**body, "hookInstance": str(uuid.uuid4())})
            if response.status_code != 200:
                raise RuntimeError(f"{kind} HTTP {response.status_code}")
            answered = cards.setdefault(service, [])
            answered.extend(card["uuid"] for card in response.json()["cards"][:2])
            del answered[:-500]

        async def feedback(rng: random.Random) -> None:
            service = rng.choice(sorted(service for service, answered in cards.items() if answered))
            items = [
                {
                    "card": rng.choice(cards[service]),
                    "outcome": "overridden",
                    "overrideReason": {"reason": {"code": "mdt-reviewed", "system": "urn:her2-cds:override-reason"}},
                    "outcomeTimestamp": "2026-12-01T08:00:00Z",
                }
                for _ in range(rng.randint(1, 3))
            ]
            response = await http.post(f"/cds-services/{service}/feedback", json={"feedback": items})
            if response.status_code != 200:
                raise RuntimeError(f"feedback HTTP {response.status_code}")
            report.feedback_accepted += int(response.json()["stored"])

        async def one(rng: random.Random, warmup: bool) -> None:
            nonlocal issued
            issued += 1
            roll = rng.random()
            kind = "feedback" if roll < 0.2 and any(cards.values()) else ""
            started = time.perf_counter()
            try:
                if kind:
                    await feedback(rng)
                else:
                    kind, service, body = rng.choice(bodies)
                    await hook(kind, service, body)
            except (httpx.HTTPError, RuntimeError, ValueError) as exc:
                report.errors[str(exc) if isinstance(exc, RuntimeError) else type(exc).__name__] += 1
            if not warmup:
                report.latencies[kind].append((time.perf_counter() - started) * 1000)
                report.requests += 1

        warm = random.Random(0)
        for _ in range(50):
            await one(warm, warmup=True)
        report.rss_start_kb = report.rss_peak_kb = _rss_kb(pid)

        deadline = time.monotonic() + seconds
        started = time.monotonic()

        async def client(number: int) -> None:
            rng = random.Random(number)
            while time.monotonic() < deadline and report.requests < max_requests:
                await one(rng, warmup=False)

        async def sample_rss() -> None:
            while time.monotonic() < deadline:
                report.rss_peak_kb = max(report.rss_peak_kb, _rss_kb(pid))
                await asyncio.sleep(1.0)

        await asyncio.gather(sample_rss(), *(client(n) for n in range(CLIENTS)))
        report.seconds = time.monotonic() - started
        report.rss_end_kb = _rss_kb(pid)
        report.rss_peak_kb = max(report.rss_peak_kb, report.rss_end_kb)


# -- the server ------------------------------------------------------------------------------------
def run(seconds: float, max_requests: int = 2_000_000) -> Report:
    """Starts a server on 127.0.0.1, runs the traffic, stops the server, counts stored feedback."""
    report = Report(seconds=seconds)
    with tempfile.TemporaryDirectory(prefix="her2-load-") as folder:
        database_url = f"sqlite:///{Path(folder) / 'load.sqlite3'}"
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("HER2_CDS_")}
        env.update(HER2_CDS_DATABASE_URL=database_url, HER2_CDS_LOG_LEVEL="WARNING")
        log_path = Path(folder) / "server.log"
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "cds_service", "serve", "--host", HOST, "--port", str(port)],
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                base = f"http://{HOST}:{port}"
                _wait_ready(base, server)
                asyncio.run(_traffic(base, seconds, max_requests, server.pid, report))
            finally:
                stop(server, timeout=30)
        store = FeedbackStore(database_url)
        report.feedback_stored = store.count()
        store.close()
        server_errors = [line for line in log_path.read_text(errors="replace").splitlines() if '"ERROR"' in line]
        if server_errors:
            report.errors["server log ERROR lines"] += len(server_errors)
    return report


def _wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode} before it was ready")
        try:
            if httpx.get(f"{base}/readyz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not become ready in time")


def main() -> int:
    seconds = float(os.environ.get("LOAD_SECONDS", "60"))
    max_requests = int(os.environ.get("LOAD_MAX_REQUESTS", "2000000"))
    if not 0 < seconds <= 3600:
        raise SystemExit("LOAD_SECONDS must be between 0 and 3600")
    print(f"load: {CLIENTS} clients for {seconds:.0f} s (at most {max_requests} requests) on {HOST}", flush=True)
    report = run(seconds, max_requests)
    for line in report.lines():
        print(line)
    print(json.dumps({"requests": report.requests, "errors": report.error_count}))
    return 0 if report.error_count == 0 and report.feedback_accepted == report.feedback_stored else 1


if __name__ == "__main__":
    sys.exit(main())
