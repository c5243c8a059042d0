"""A real FHIR server (Medplum's FHIR router, in memory, on Node) started by the suite on 127.0.0.1."""

import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cds_service.config import REPO_ROOT, Settings
from cds_service.examples import load_examples

SERVER_DIR = Path(__file__).resolve().parents[1] / "fhir_server"
READY = "FHIR server listening on "


def _install() -> None:
    if not (SERVER_DIR / "node_modules" / "@medplum" / "fhir-router").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=SERVER_DIR, check=True, timeout=300)


def _await_ready(process: subprocess.Popen[str], timeout: float) -> str:
    found: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        found.append(process.stdout.readline())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    if not found or not found[0].startswith(READY):
        process.kill()
        raise RuntimeError(f"FHIR test server did not start: {found[:1]!r}")
    return found[0].removeprefix(READY).strip()


@pytest.fixture(scope="session")
def fhir_base() -> Iterator[str]:
    if shutil.which("node") is None:
        pytest.fail("Node.js 20 is needed for the integration tests (see README)")
    _install()
    process = subprocess.Popen(
        ["node", "server.mjs", "--port", "0"],
        cwd=SERVER_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        base = _await_ready(process, timeout=30)
        report = load_examples(base, [REPO_ROOT / "examples"])
        assert report.ok, report.lines
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()


@pytest.fixture
def settings(settings: Settings, fhir_base: str) -> Settings:
    """The test server listens on loopback, which is refused unless allowlisted (secure by default)."""
    return settings.model_copy(update={"fhir_server_allowlist": [fhir_base, "http://127.0.0.1:9/fhir"]})
