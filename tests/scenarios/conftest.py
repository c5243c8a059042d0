"""One app for the whole folder: the scenarios only read, and a fresh app per test costs ~0.4 s."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cds_service.app import create_app
from cds_service.catalog import ServiceSpec
from cds_service.config import Settings


@pytest.fixture(scope="package")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    database = Path(tmp_path_factory.mktemp("scenarios")) / "feedback.sqlite3"
    with pytest.MonkeyPatch.context() as env:
        for name in list(os.environ):
            if name.startswith("HER2_CDS_"):
                env.delenv(name)  # the embedded defaults, whatever the developer's shell exports
        settings = Settings(database_url=f"sqlite:///{database}", hook_deadline_seconds=5.0)
        with TestClient(create_app(settings)) as test_client:
            yield test_client


@pytest.fixture(scope="package")
def templates(client: TestClient) -> dict[str, str]:
    specs: dict[str, ServiceSpec] = dict(client.app.state.catalog)  # type: ignore[attr-defined]
    return dict(specs["her2-patient-view"].prefetch)
