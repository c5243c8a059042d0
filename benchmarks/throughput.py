"""The service against the framework floor, over real HTTP on 127.0.0.1, in one run: `make bench`.

For each server configuration (1 worker; the production settings) it starts the service and the floor app
(benchmarks/floor.py) under uvicorn with the same settings, then for each body (10 to 5,000 resources, full
prefetch, patient-view and order-sign) runs interleaved rounds (floor, service, floor, service…) so that noise
from other work on the machine hits both: sequential calls (p50/p95) and a fixed time at 16 concurrent
connections (wrk with a Lua script when installed, else an async httpx client). It prints one table with the
service/floor ratios: only those carry over to another machine.

Bounded: BENCH_ROUNDS (default 2) × BENCH_SECONDS (default 2) of load plus BENCH_SEQ_SECONDS (default 1, and
at least 60 calls) of sequential calls per app and body; BENCH_SIZES (default 10,300,1000,5000), BENCH_WORKERS
(default 1,2) and BENCH_HOOKS choose the grid. About four minutes on 2 cores with the defaults."""

import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from cds_service.server import WORKER_APP
from tests.utils.processes import stop

from .bodies import HOOKS, body

HOST = "127.0.0.1"  # loopback only, always
CONNECTIONS = 16
FLOOR_APP = "benchmarks.floor:app"
# Other apps built by a factory, as the service's workers are (benchmarks/ceiling.py).
FACTORIES = frozenset({"benchmarks.ceiling:create_rules_free_app"})
START_TIMEOUT_SECONDS = 60.0
WARMUP_CALLS = 3
# Sequential calls per app and round, at least: a p95 from the ~25 calls that one second holds at 5,000
# resources rested on one or two calls, and a single slow one moved the p95 ratio from 1.8 to 3.
SEQ_MIN_CALLS = 60


@dataclass(frozen=True)
class Config:
    workers: int

    @property
    def label(self) -> str:
        return f"{self.workers} worker{'s' if self.workers > 1 else ''}, uvloop + httptools"

    def uvicorn_args(self) -> list[str]:
        # The same flags for both apps; the service's `her2-cds serve --workers N` uses exactly these.
        return ["--workers", str(self.workers), "--loop", "uvloop", "--http", "httptools", "--no-access-log"]


@dataclass
class Measure:
    """Pooled over rounds: sequential latencies (ms) and one throughput (requests/s) per round."""

    latencies: list[float] = field(default_factory=list)
    rps: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)  # server CPU (all its processes) per call under load

    def p(self, percent: int) -> float:
        ordered = sorted(self.latencies)
        if len(ordered) < 2:
            return ordered[0] if ordered else 0.0
        return statistics.quantiles(ordered, n=100, method="inclusive")[percent - 1]

    @property
    def throughput(self) -> float:
        return statistics.mean(self.rps) if self.rps else 0.0

    @property
    def cpu_per_call(self) -> float:
        return min(self.cpu_ms) if self.cpu_ms else 0.0  # the least disturbed round


@dataclass
class Row:
    config: str
    service: str
    size: int
    kilobytes: float
    floor: Measure = field(default_factory=Measure)
    app: Measure = field(default_factory=Measure)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a server process and its direct children (uvicorn's workers), from /proc; None where
    there is no /proc. What the server spends per call, whatever else the machine runs meanwhile."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0
    try:
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # a process that ended meanwhile
            if stat.parent.name == str(pid) or fields[1] == str(pid):  # the process, or one whose parent it is
                total += int(fields[11]) + int(fields[12])  # utime, stime
    except OSError:
        return None
    return total / ticks if total else None


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Server:
    base: str
    pid: int  # uvicorn's process: with one worker, the one that serves


@contextmanager
def server(app: str, config: Config, env: dict[str, str]) -> Iterator[Server]:
    """An app under uvicorn on a free loopback port, stopped on exit."""
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--host", HOST, "--port", str(port), *config.uvicorn_args()]
    if app == WORKER_APP or app in FACTORIES:
        command.append("--factory")
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://{HOST}:{port}"
    try:
        _wait_ready(base, process)
        yield Server(base, process.pid)
    finally:
        stop(process, timeout=20)


def _wait_ready(base: str, process: "subprocess.Popen[bytes]") -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{base}: the server exited with {process.returncode} before it was ready")
        try:
            if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                # Other workers may still be loading: give them the time one took, then warm-up calls follow.
                time.sleep(1.0)
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{base}: the server did not become ready in time")


def sequential(client: httpx.Client, url: str, payload: bytes, seconds: float, minimum: int = 10) -> list[float]:
    """One call at a time on one keep-alive connection, for `seconds` (and at least `minimum` calls)."""
    samples: list[float] = []
    stop = time.perf_counter() + seconds
    while time.perf_counter() < stop or len(samples) < minimum:
        started = time.perf_counter()
        response = client.post(url, content=payload, headers={"Content-Type": "application/json"})
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}: {response.text[:200]}")
    return samples


def _lua(body_file: Path) -> str:
    return (
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'local f = assert(io.open("{body_file}", "rb"))\n'
        'wrk.body = f:read("*a")\nf:close()\n'
    )


def concurrent_wrk(url: str, body_file: Path, seconds: float) -> float:
    script = body_file.with_suffix(".lua")
    script.write_text(_lua(body_file))
    result = subprocess.run(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            str(CONNECTIONS),
            "-d",
            f"{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    out = result.stdout
    if result.returncode != 0 or "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"wrk against {url} failed or saw errors:\n{out}{result.stderr}")
    line = next(line for line in out.splitlines() if line.startswith("Requests/sec:"))
    return float(line.split()[1])


async def _concurrent_httpx(url: str, payload: bytes, seconds: float) -> float:
    limits = httpx.Limits(max_connections=CONNECTIONS)
    done = 0
    async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:
        stop = time.perf_counter() + seconds

        async def one() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                response = await client.post(url, content=payload, headers={"Content-Type": "application/json"})
                if response.status_code != 200:
                    raise SystemExit(f"{url} answered {response.status_code}")
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(CONNECTIONS)))
        return done / (time.perf_counter() - started)


def concurrent(url: str, body_file: Path, seconds: float) -> float:
    """Requests/s at 16 concurrent connections for `seconds`."""
    if shutil.which("wrk"):
        return concurrent_wrk(url, body_file, seconds)
    return asyncio.run(_concurrent_httpx(url, body_file.read_bytes(), seconds))


def under_load(url: str, pid: int, body_file: Path, seconds: float, into: Measure) -> None:
    """One round at 16 connections: its requests/s, and the server's CPU per call, into `into`."""
    cpu_before, started = cpu_seconds(pid), time.perf_counter()
    into.rps.append(concurrent(url, body_file, seconds))
    cpu_after, elapsed = cpu_seconds(pid), time.perf_counter() - started
    if cpu_before is not None and cpu_after is not None and into.rps[-1]:
        # wrk's run is `seconds` long; the process was also idle for its start and end
        into.cpu_ms.append((cpu_after - cpu_before) * 1000 / (into.rps[-1] * min(seconds, elapsed)))


def measure(config: Config, services: list[str], sizes: list[int], tmp: Path) -> list[Row]:
    rounds = int(os.environ.get("BENCH_ROUNDS", "2"))
    seconds = float(os.environ.get("BENCH_SECONDS", "2"))
    seq_seconds = float(os.environ.get("BENCH_SEQ_SECONDS", "1"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HER2_CDS_")}
    # A fresh database; the service logs at INFO to nowhere: it pays for its log lines as in production.
    env.update(HER2_CDS_DATABASE_URL=f"sqlite:///{tmp / f'bench-{config.workers}.sqlite3'}", HER2_CDS_LOG_LEVEL="INFO")
    rows = []
    with ExitStack() as stack:
        floor = stack.enter_context(server(FLOOR_APP, config, env))
        service_server = stack.enter_context(server(WORKER_APP, config, env))
        services_url = f"{service_server.base}/cds-services"
        templates = {s["id"]: s["prefetch"] for s in httpx.get(services_url).json()["services"]}
        client = stack.enter_context(httpx.Client(timeout=60.0))
        for service in services:
            for size in sizes:
                payload = body(service, size, templates[service])
                body_file = tmp / f"{service}-{size}.json"
                body_file.write_bytes(payload)
                row = Row(config.label, service, size, len(payload) / 1024)
                apps = ((floor, row.floor), (service_server, row.app))
                for app, _ in apps:
                    sequential(client, f"{app.base}/cds-services/{service}", payload, 0, WARMUP_CALLS)
                for _ in range(rounds):
                    for app, into in apps:  # floor, service, floor, service…: noise hits both
                        url = f"{app.base}/cds-services/{service}"
                        into.latencies += sequential(client, url, payload, seq_seconds, SEQ_MIN_CALLS)
                        under_load(url, app.pid, body_file, seconds, into)
                print(_line(row), flush=True)
                rows.append(row)
    return rows


HEADER = (
    f"{'server':<30} {'hook':<13} {'res.':>5} {'KB':>6} │ {'floor rps':>9} {'service':>8} {'ratio':>6} │ "
    f"{'floor p50/p95 ms':>17} {'service p50/p95 ms':>19} {'p95 ratio':>9} │ "
    f"{'CPU ms/call floor/service':>25} {'CPU ratio':>9}"
)


def _cpu(floor: Measure, app: Measure) -> str:
    if not floor.cpu_per_call or not app.cpu_per_call:
        return f"{'n/a':>25} {'':>9}"
    ratio = floor.cpu_per_call / app.cpu_per_call
    return f"{floor.cpu_per_call:>12.2f} / {app.cpu_per_call:>10.2f} {ratio:>9.2f}"


def _line(row: Row) -> str:
    floor, app = row.floor, row.app
    ratio = app.throughput / floor.throughput if floor.throughput else 0.0
    p95_ratio = app.p(95) / floor.p(95) if floor.p(95) else 0.0
    hook = HOOKS[row.service]
    return (
        f"{row.config:<30} {hook:<13} {row.size:>5} {row.kilobytes:>6.0f} │ {floor.throughput:>9.0f} "
        f"{app.throughput:>8.0f} {ratio:>6.2f} │ {floor.p(50):>7.1f} / {floor.p(95):>7.1f} "
        f"{app.p(50):>8.1f} / {app.p(95):>8.1f} {p95_ratio:>9.2f} │ {_cpu(floor, app)}"
    )


def main() -> None:
    started = time.perf_counter()
    services = [s for s in _env_list("BENCH_HOOKS", ",".join(HOOKS)) if s in HOOKS]
    sizes = [int(s) for s in _env_list("BENCH_SIZES", "10,300,1000,5000")]
    configs = [Config(int(w)) for w in _env_list("BENCH_WORKERS", "1,2")]
    tool = "wrk" if shutil.which("wrk") else "async httpx (install wrk for a lighter load generator)"
    print(f"service vs framework floor on {HOST}; {CONNECTIONS} connections with {tool}; {os.cpu_count()} CPUs")
    print("ratio = service rps / floor rps (1.00 = as fast as FastAPI alone); p95 ratio = service p95 / floor p95")
    print("CPU ms/call = the server's processes' CPU time per call under load (least disturbed round): steadier")
    print(
        "than requests/s on a machine that runs other work; CPU ratio = floor / service, the rps ratio of an idle one"
    )
    print(HEADER, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        rows = [row for config in configs for row in measure(config, services, sizes, Path(tmp))]
    print(f"\n{HEADER}")
    for row in rows:
        print(_line(row))
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
