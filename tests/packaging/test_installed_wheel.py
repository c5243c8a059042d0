"""The wheel, installed into a fresh virtualenv outside the checkout, runs the service from any folder."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cds_service import __version__
from cds_service.clinical.engine import load_engine
from cds_service.config import REPO_ROOT
from cds_service.hookrequest import build_request, bundle_resources

pytestmark = pytest.mark.wheel

ENGINE = load_engine(REPO_ROOT / "mappings", REPO_ROOT / "cards")
# What the build reads; everything else of the checkout (venvs, caches, old build/ output) stays out of it.
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE", "cds_service", "cards", "mappings")
EXAMPLE = "her2-positive-ihc2-ish-amplified.json"


def _run(*command: str | Path, cwd: Path, env: dict[str, str], timeout: float = 180) -> str:
    done = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{command[:3]} exited {done.returncode}: {done.stderr[-2000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, dict[str, str]]]:
    """(the venv's bin folder, an empty working folder, an environment without HER2_CDS_* or this venv)."""
    root = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HER2_CDS_", "PYTHON", "VIRTUAL_ENV"))}
    source = root / "source"
    for name in SOURCES:
        if (REPO_ROOT / name).is_dir():
            shutil.copytree(REPO_ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(REPO_ROOT / name, source / name)
    shutil.copytree(REPO_ROOT / "examples" / "synthetic", source / "examples" / "synthetic")
    dist = root / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", dist, source, cwd=root, env=env)
    (wheel,) = dist.glob("*.whl")

    venv = root / "venv"
    # No pip inside (this pip installs into it with --python): a few seconds less on a busy machine.
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=root, env=env)
    pins = REPO_ROOT / "constraints.txt"
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "-c", pins, wheel, cwd=root, env=env)
    shutil.rmtree(source)  # the installed service must not lean on the copy it was built from
    work = root / "work"
    work.mkdir()
    yield venv / "bin", work, env


def test_wheel_ships_the_data_folders_and_the_licence(installed: tuple[Path, Path, dict[str, str]]) -> None:
    bin_dir, _, _ = installed
    (wheel,) = (bin_dir.parent.parent / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("cards", "mappings", "examples/synthetic"):
        expected = {f"cds_service/_data/{folder}/{p.name}" for p in (REPO_ROOT / folder).iterdir() if p.is_file()}
        assert expected <= names, expected - names
    assert f"her2_cds_hooks-{__version__}.dist-info/licenses/LICENSE" in names
    assert not any(name.startswith(("tests/", "benchmarks/")) for name in names)


def test_version_and_check_data_from_an_unrelated_folder(installed: tuple[Path, Path, dict[str, str]]) -> None:
    bin_dir, work, env = installed
    version = _run(bin_dir / "her2-cds", "--version", cwd=work, env=env)
    # Same files, same knowledge version: the packaged data is the checkout's.
    assert version == f"her2-cds {__version__} (knowledge {ENGINE.version.label})\n"
    report = _run(bin_dir / "her2-cds", "check-data", cwd=work, env=env)
    assert report.startswith(f"OK {len(ENGINE.knowledge.entries)} knowledge rows")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_answers_discovery_and_a_patient_view(installed: tuple[Path, Path, dict[str, str]]) -> None:
    bin_dir, work, env = installed
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(bin_dir / "her2-cds"), "serve", "--port", str(port)],
        cwd=work,
        env={**env, "HER2_CDS_LOG_FORMAT": "json"},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            deadline = time.monotonic() + 60
            while True:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the installed service did not answer /healthz within 60 s"
                time.sleep(0.2)

            services = {s["id"]: s for s in client.get("/cds-services").json()["services"]}
            assert {"her2-patient-view", "her2-order-select", "her2-order-sign"} <= set(services)
            bundle = json.loads((REPO_ROOT / "examples" / "synthetic" / EXAMPLE).read_text(encoding="utf-8"))
            templates = services["her2-patient-view"]["prefetch"]
            request = build_request("patient-view", bundle_resources(bundle), templates, ENGINE.terminology)
            answer = client.post("/cds-services/her2-patient-view", json=request)
            assert answer.status_code == 200, answer.text
            rules = {card["source"]["topic"]["code"] for card in answer.json()["cards"] if "topic" in card["source"]}
            assert rules, answer.json()
    finally:
        server.send_signal(signal.SIGINT)
        _, log = server.communicate(timeout=30)

    summary = [json.loads(line)["message"] for line in log.splitlines() if '"cds_service.startup"' in line]
    site_packages = next((bin_dir.parent / "lib").glob("python3.*/site-packages"))
    assert f"cards {site_packages / 'cds_service' / '_data' / 'cards'}" in " ".join(summary)
    # The database is written under the working folder, never inside site-packages.
    assert (work / "var" / "feedback.sqlite3").is_file()
    assert not list(site_packages.rglob("*.sqlite3"))
