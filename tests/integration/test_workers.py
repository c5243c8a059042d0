"""`her2-cds serve --workers 2`: two processes on one SQLite database (WAL) answer hooks and feedback as one."""

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from benchmarks.bodies import body
from cds_service.config import REPO_ROOT

HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


async def _traffic(base: str) -> tuple[int, int]:
    async with httpx.AsyncClient(base_url=base, timeout=30.0) as client:
        templates = {s["id"]: s["prefetch"] for s in (await client.get("/cds-services")).json()["services"]}
        payload = body("her2-patient-view", 30, templates["her2-patient-view"])

        async def hook() -> list[str]:
            response = await client.post(
                "/cds-services/her2-patient-view", content=payload, headers={"Content-Type": "application/json"}
            )
            assert response.status_code == 200
            return [card["uuid"] for card in response.json()["cards"]]

        # New connections each round, so both workers get calls.
        cards = [uuid for answered in await asyncio.gather(*(hook() for _ in range(16))) for uuid in answered]
    # Feedback in eight requests on eight fresh connections: each may reach the worker that did not issue the card.
    stored = 0
    for part in range(8):
        async with httpx.AsyncClient(base_url=base, timeout=30.0) as fresh:
            items = [
                {
                    "card": uuid,
                    "outcome": "overridden",
                    "overrideReason": {"reason": {"code": "mdt-reviewed", "system": "urn:her2-cds:override-reason"}},
                    "outcomeTimestamp": "2026-12-01T08:00:00Z",
                }
                for uuid in cards[part::8]
            ]
            response = await fresh.post("/cds-services/her2-patient-view/feedback", json={"feedback": items})
            assert response.status_code == 200, response.text
            stored += int(response.json()["stored"])
    return len(cards), stored


def test_two_workers_share_one_sqlite_database(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HER2_CDS_")}
    env.update(HER2_CDS_DATABASE_URL=f"sqlite:///{tmp_path / 'shared.sqlite3'}", HER2_CDS_LOG_LEVEL="WARNING")
    server = subprocess.Popen(
        [sys.executable, "-m", "cds_service", "serve", "--host", HOST, "--port", str(port), "--workers", "2"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert server.poll() is None, "the server exited"
            try:
                if httpx.get(f"{base}/readyz", timeout=1.0).status_code == 200 and len(_children(server.pid)) >= 2:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        workers = [pid for pid in _children(server.pid) if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()]
        assert len(workers) == 2
        issued, stored = asyncio.run(_traffic(base))
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)

    assert issued > 0 and stored == issued
    assert '"ERROR"' not in errors.decode(errors="replace")


def test_a_refused_configuration_stops_before_any_worker_starts(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HER2_CDS_")}
    env.update(HER2_CDS_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    done = subprocess.run(
        [sys.executable, "-m", "cds_service", "serve", "--host", "0.0.0.0", "--port", "0", "--workers", "2"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    refusal = [line for line in done.stderr.splitlines() if line.startswith("her2-cds:")]
    assert len(refusal) == 1 and "refusing to listen on 0.0.0.0" in refusal[0]
    assert "Started parent process" not in done.stderr
