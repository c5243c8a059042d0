"""How fast the service could be with rules that cost nothing: `make bench-ceiling`.

The rules-free app is the service itself (authentication, body parsing, prefetch gathering, the issued-cards
record, the answer, logs and metrics) with one change: each hook's rules run on the first call only, and every
later call gets copies of those cards with new uuids. Benchmark-only, never served. Over real HTTP on 127.0.0.1,
in interleaved rounds, it prints floor, rules-free and service requests/s and CPU per call at 16 connections,
with the ratios to the floor: the rules-free ratio is the most the service can reach by making its rules faster,
and the gap between the rules-free and the service's CPU per call is what the rules cost under load.

BENCH_SIZES (default 300), BENCH_HOOKS, BENCH_WORKERS (default 2), BENCH_ROUNDS (default 3) and BENCH_SECONDS
(default 3) choose the grid; about 30 s per hook and size with the defaults."""

import os
import tempfile
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from cds_service.server import WORKER_APP, create_worker_app

from .bodies import HOOKS, body
from .throughput import FLOOR_APP, Config, Measure, _env_list, sequential, server, under_load

__all__ = ["RULES_FREE_APP", "create_rules_free_app"]

RULES_FREE_APP = "benchmarks.ceiling:create_rules_free_app"


def create_rules_free_app() -> FastAPI:
    """The worker app, with each service's rules answered from its first call (new card uuids each time)."""
    app = create_worker_app()
    for spec in app.state.catalog.values():
        first: list[Any] = []

        def evaluate(*args: Any, _rules: Any = spec.evaluate, _first: list[Any] = first) -> list[Any]:
            if not _first:
                _first.append(_rules(*args))
            return [card.model_copy(update={"uuid": str(uuid.uuid4())}) for card in _first[0]]

        object.__setattr__(spec, "evaluate", evaluate)  # the spec is a frozen dataclass
    return app


def main() -> None:
    services = [s for s in _env_list("BENCH_HOOKS", ",".join(HOOKS)) if s in HOOKS]
    sizes = [int(s) for s in _env_list("BENCH_SIZES", "300")]
    workers = [int(w) for w in _env_list("BENCH_WORKERS", "2")]
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    seconds = float(os.environ.get("BENCH_SECONDS", "3"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("HER2_CDS_")}
    print("floor, rules-free service (rules answered from their first call) and service; 16 connections")
    print(f"{'workers':>7} {'hook':<13} {'res.':>5} │ {'app':<10} {'rps':>7} {'ratio':>6} │ ", end="")
    print(f"{'CPU ms/call':>11} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        tmp = Path(folder)
        for count in workers:
            config = Config(count)
            apps = {}
            for name, app in (("floor", FLOOR_APP), ("rules-free", RULES_FREE_APP), ("service", WORKER_APP)):
                database = f"sqlite:///{tmp / f'{name}-{count}.sqlite3'}"
                apps[name] = stack.enter_context(
                    server(app, config, {**env, "HER2_CDS_DATABASE_URL": database, "HER2_CDS_LOG_LEVEL": "INFO"})
                )
            templates = {
                s["id"]: s["prefetch"] for s in httpx.get(f"{apps['service'].base}/cds-services").json()["services"]
            }
            client = stack.enter_context(httpx.Client(timeout=60.0))
            for service in services:
                for size in sizes:
                    body_file = tmp / f"{service}-{size}.json"
                    body_file.write_bytes(body(service, size, templates[service]))
                    measures = {name: Measure() for name in apps}
                    for running in apps.values():  # warm-up; the rules-free app keeps this first answer
                        sequential(client, f"{running.base}/cds-services/{service}", body_file.read_bytes(), 0, 3)
                    for _ in range(rounds):
                        for name, running in apps.items():  # floor, rules-free, service, floor…: noise hits all
                            url = f"{running.base}/cds-services/{service}"
                            under_load(url, running.pid, body_file, seconds, measures[name])
                    floor = measures["floor"]
                    for name, measure in measures.items():
                        cpu_ratio = floor.cpu_per_call / measure.cpu_per_call if measure.cpu_per_call else 0.0
                        print(
                            f"{count:>7} {HOOKS[service]:<13} {size:>5} │ {name:<10} {measure.throughput:>7.0f} "
                            f"{measure.throughput / floor.throughput:>6.2f} │ {measure.cpu_per_call:>11.2f} "
                            f"{cpu_ratio:>6.2f}",
                            flush=True,
                        )


if __name__ == "__main__":
    main()
