"""The command line as the README uses it: serve, load-examples, feedback."""

import json
import shutil
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from cds_service.cli import main
from cds_service.config import REPO_ROOT
from cds_service.hooks.feedback import Feedback
from cds_service.store import FeedbackStore, IssuedCard, IssuedCards
from tests.api.test_feedback import ACCEPTED, OVERRIDDEN

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_runs_the_service_on_loopback(tmp_path: Path) -> None:
    port = _free_port()
    env = {"PATH": "/usr/bin:/bin", "HER2_CDS_DATABASE_URL": f"sqlite:///{tmp_path / 'fb.sqlite3'}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "cds_service", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/cds-services", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, "the service exited"
                assert time.monotonic() < deadline, "the service did not come up"
                time.sleep(0.2)
        assert response.status_code == 200
        assert len(response.json()["services"]) == 3
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_load_examples_command_reports_each_file(fhir_base: str, capsys: pytest.CaptureFixture[str]) -> None:
    synthetic = REPO_ROOT / "examples" / "synthetic"

    assert main(["load-examples", fhir_base, str(synthetic)]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert sorted(lines) == [
        "her2-ihc2-awaiting-ish.json: 4 resources loaded",
        "her2-local-codes-chinese-hospital.json: 9 resources loaded",
        "her2-low-metastatic-after-chemotherapy.json: 8 resources loaded",
        "her2-positive-ihc2-ish-amplified.json: 9 resources loaded",
        "her2-positive-metastatic-second-line.json: 12 resources loaded",
    ]


def test_load_examples_command_fails_when_the_server_is_down(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load-examples", "http://127.0.0.1:9/fhir", str(REPO_ROOT / "examples" / "synthetic")]) == 1
    assert "did not answer /metadata" in capsys.readouterr().out


def test_feedback_command_prints_stored_feedback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'fb.sqlite3'}"
    store = FeedbackStore(url)
    moment = datetime.now(UTC)
    IssuedCards(store.database).record(
        [IssuedCard(item["card"], "her2-order-sign", ("T1",), "info", moment, "v") for item in (ACCEPTED, OVERRIDDEN)]
    )
    store.add("her2-order-sign", [Feedback.model_validate(ACCEPTED), Feedback.model_validate(OVERRIDDEN)])
    store.close()
    monkeypatch.setenv("HER2_CDS_DATABASE_URL", url)

    assert main(["feedback", "--service", "her2-order-sign"]) == 0

    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [p["outcome"] for p in printed] == ["accepted", "overridden"]
    assert printed[1]["overrideReason"]["userComment"] == "sent out"


def test_check_data_summarises_the_knowledge_base(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-data"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK 75 knowledge rows: adjuvant 13, biosimilars 8, metastatic 16")  # 72 + N7, A13, S9
    assert "rows by source kind: " in out
    assert "drug and product codes: single-source" in out


def test_check_data_names_the_bad_file_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cards = tmp_path / "cards"
    shutil.copytree(REPO_ROOT / "cards", cards)
    safety = cards / "safety.yaml"
    safety.write_text(safety.read_text(encoding="utf-8").replace("kind: safety", "kind: safe", 1), encoding="utf-8")
    monkeypatch.setenv("HER2_CDS_CARDS_DIR", str(cards))

    assert main(["check-data"]) == 1
    assert capsys.readouterr().out.startswith(f"INVALID {safety}: entries.0.kind:")
