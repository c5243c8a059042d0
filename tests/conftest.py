import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cds_service.app import create_app
from cds_service.catalog import ServiceSpec
from cds_service.config import Settings


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
