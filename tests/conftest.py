import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cds_service.app import create_app
from cds_service.catalog import ServiceSpec
from cds_service.config import Settings
from tests.utils.postgres import new_database, postgres_server


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see the embedded defaults, whatever the developer's shell exports."""
    for name in list(os.environ):
        if name.startswith("HER2_CDS_"):
            monkeypatch.delenv(name)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'feedback.sqlite3'}",
        hook_deadline_seconds=2.0,
        fhir_request_timeout_seconds=1.0,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def templates(client: TestClient) -> dict[str, str]:
    specs: dict[str, ServiceSpec] = dict(client.app.state.catalog)  # type: ignore[attr-defined]
    return dict(specs["her2-patient-view"].prefetch)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """One real PostgreSQL server for the session, started on first use (about a second)."""
    with postgres_server() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on the embedded default and on the production database, each empty."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return new_database(request.getfixturevalue("postgres"))
