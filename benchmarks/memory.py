"""Memory over many calls: the service's RSS sampled while it answers MEMORY_CALLS (default 10,000) hook calls.

`python -m benchmarks.memory`. One worker process under uvicorn on 127.0.0.1 (the production settings
otherwise), 300-resource bodies with full prefetch, patient-view and order-sign in turn, 8 clients at once.
Flat means: after warm-up, the RSS stops growing (caches are bounded, nothing is kept per call but the
issued-cards rows in the database)."""

import asyncio
import os
import tempfile
import time
from pathlib import Path

import httpx

from cds_service.server import WORKER_APP

from .bodies import HOOKS, body
from .throughput import Config, server

CLIENTS = 8
SIZE = 300


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def _calls(base: str, pid: int, calls: int, every: int) -> list[tuple[int, int]]:
    async with httpx.AsyncClient(base_url=base, timeout=60.0) as client:
        templates = {s["id"]: s["prefetch"] for s in (await client.get("/cds-services")).json()["services"]}
        bodies = [(service, body(service, SIZE, templates[service])) for service in HOOKS]
        started = finished = 0
        samples = [(0, rss_kb(pid))]

        async def one() -> None:
            nonlocal started, finished
            while started < calls:
                service, payload = bodies[started % len(bodies)]
                started += 1
                response = await client.post(
                    f"/cds-services/{service}", content=payload, headers={"Content-Type": "application/json"}
                )
                if response.status_code != 200:
                    raise SystemExit(f"{service} answered {response.status_code}")
                finished += 1
                if finished % every == 0:
                    samples.append((finished, rss_kb(pid)))

        await asyncio.gather(*(one() for _ in range(CLIENTS)))
        return samples


def run(calls: int) -> list[tuple[int, int]]:
    every = max(calls // 20, 1)
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HER2_CDS_")}
        env.update(HER2_CDS_DATABASE_URL=f"sqlite:///{Path(tmp) / 'memory.sqlite3'}", HER2_CDS_LOG_LEVEL="WARNING")
        with server(WORKER_APP, Config(1), env) as served:
            return asyncio.run(_calls(served.base, served.pid, calls, every))


def main() -> None:
    calls = int(os.environ.get("MEMORY_CALLS", "10000"))
    started = time.perf_counter()
    samples = run(calls)
    print(f"{'calls':>7} {'RSS MB':>8}")
    for done, kb in samples:
        print(f"{done:>7} {kb / 1024:>8.1f}")
    warm = next((kb for done, kb in samples if done >= calls // 10), samples[-1][1])
    end = samples[-1][1]
    print(
        f"RSS after warm-up ({calls // 10} calls) {warm / 1024:.1f} MB, at the end {end / 1024:.1f} MB: "
        f"{(end - warm) / 1024:+.1f} MB over {calls - calls // 10} calls; {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
