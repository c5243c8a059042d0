"""One app for the whole folder: the scenarios only read, and a fresh app per test costs ~0.4 s."""

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cds_service.app import create_app
from cds_service.catalog import ServiceSpec
from cds_service.config import Settings


def _client(database: Path, **settings: Any) -> Iterator[TestClient]:
    with pytest.MonkeyPatch.context() as env:
        for name in list(os.environ):
            if name.startswith("HER2_CDS_"):
                env.delenv(name)  # the embedded defaults, whatever the developer's shell exports
        configured = Settings(database_url=f"sqlite:///{database}", hook_deadline_seconds=5.0, **settings)
        with TestClient(create_app(configured)) as test_client:
            yield test_client


@pytest.fixture(scope="package")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    yield from _client(Path(tmp_path_factory.mktemp("scenarios")) / "feedback.sqlite3")


@pytest.fixture(scope="package")
def clients(client: TestClient, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], TestClient]]:
    """A client per biosimilar jurisdiction (CN is the default `client`); made on first use."""
    made: dict[str, TestClient] = {"CN": client}
    stack = ExitStack()

    def for_jurisdiction(jurisdiction: str) -> TestClient:
        if jurisdiction not in made:
            database = Path(tmp_path_factory.mktemp(f"scenarios-{jurisdiction}")) / "feedback.sqlite3"
            made[jurisdiction] = stack.enter_context(contextmanager(_client)(database, jurisdiction=jurisdiction))
        return made[jurisdiction]

    with stack:
        yield for_jurisdiction


@pytest.fixture(scope="package")
def templates(client: TestClient) -> dict[str, str]:
    specs: dict[str, ServiceSpec] = dict(client.app.state.catalog)  # type: ignore[attr-defined]
    return dict(specs["her2-patient-view"].prefetch)
