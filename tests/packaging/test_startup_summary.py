"""`her2-cds serve` logs once what it serves, from which data and with which protection; never a credential."""

import logging
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from cds_service import __version__
from cds_service.cli import main
from cds_service.clinical.engine import load_engine
from cds_service.config import REPO_ROOT, Settings
from cds_service.startup import redacted_database_url, startup_summary

ENGINE = load_engine(REPO_ROOT / "mappings", REPO_ROOT / "cards")
TRUSTED = REPO_ROOT / "config" / "trusted-clients.example.yaml"


def test_open_loopback_service_says_it_is_unauthenticated_and_unrestricted() -> None:
    settings = Settings(database_url="sqlite:////srv/her2/feedback.sqlite3", language="zh-CN", jurisdiction="EU")
    lines = startup_summary(settings, ENGINE)
    text = "\n".join(lines)
    assert lines[0] == f"her2-cds {__version__}: CDS Hooks discovery at http://127.0.0.1:8080/cds-services"
    assert "cards in zh-CN" in text and "jurisdiction EU" in text
    assert f"cards {settings.cards_dir}" in text and f"mappings {settings.mappings_dir}" in text
    assert f"knowledge {ENGINE.version.label}: {len(ENGINE.knowledge.entries)} rows" in text
    assert "authentication: none" in text and "fhirServer allowlist: none" in text
    assert "database: sqlite:////srv/her2/feedback.sqlite3" in text


def test_protected_service_names_its_clients_allowlist_and_public_url() -> None:
    settings = Settings(
        host="0.0.0.0",
        trusted_clients_file=TRUSTED,
        public_base_url="https://cds.example.org/",
        fhir_server_allowlist=["https://fhir.example.org/r4"],
        fhir_server_aliases={"https://fhir.example.org/r4": "http://fhir:8080/r4"},
    )
    text = "\n".join(startup_summary(settings, ENGINE))
    assert "discovery at https://cds.example.org/cds-services" in text
    assert f"client JWT required, 2 trusted client(s) from {TRUSTED}" in text
    assert "fhirServer allowlist: 1 prefix(es): https://fhir.example.org/r4; 1 alias(es)" in text


def test_an_ipv6_bind_is_a_usable_url() -> None:
    assert startup_summary(Settings(host="::1", port=9000), ENGINE)[0].endswith("http://[::1]:9000/cds-services")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://her2cds:s3cret@db:5432/her2cds", "postgresql+psycopg://her2cds:***@db:5432/her2cds"),
        ("postgresql+psycopg://her2cds@db/her2cds?password=s3cret", "postgresql+psycopg://her2cds@db/her2cds (with"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("not a url", "(a URL SQLAlchemy cannot parse)"),
    ],
)
def test_database_passwords_never_show(url: str, shown: str) -> None:
    redacted = redacted_database_url(url)
    assert redacted.startswith(shown) and "s3cret" not in redacted


def test_the_preview_page_state_is_said() -> None:
    assert (
        startup_summary(Settings(), ENGINE)[-1]
        == "preview page: on at http://127.0.0.1:8080/preview (HER2_CDS_PREVIEW=auto)"
    )
    beyond = Settings(host="10.0.0.5", allow_insecure=True)
    assert startup_summary(beyond, ENGINE)[-1] == "preview page: off (HER2_CDS_PREVIEW=auto)"
    assert startup_summary(Settings(host="10.0.0.5", preview="on"), ENGINE)[-1].startswith("preview page: on at")
    assert startup_summary(Settings(preview="off"), ENGINE)[-1] == "preview page: off (HER2_CDS_PREVIEW=off)"


def test_serve_logs_the_summary_once_before_listening(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    started: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.append(options))
    # No server behind this URL: the start-up reachability check is tested on its own (test_configuration_errors).
    monkeypatch.setattr("cds_service.commands.serve._database_problem", lambda url: None)
    monkeypatch.setenv("HER2_CDS_DATABASE_URL", "postgresql+psycopg://u:pw-not-logged@db/x")
    with caplog.at_level(logging.INFO, logger="cds_service.startup"):
        assert main(["serve", "--port", "8099"]) == 0
    summary = [r.getMessage() for r in caplog.records if r.name == "cds_service.startup"]
    assert len(started) == 1 and started[0]["port"] == 8099
    assert summary[0].endswith("http://127.0.0.1:8099/cds-services")
    assert len([line for line in summary if line.startswith("knowledge ")]) == 1
    assert "database: postgresql+psycopg://u:***@db/x" in summary
    assert not any("pw-not-logged" in r.getMessage() for r in caplog.records)
