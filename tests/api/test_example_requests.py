"""examples/requests/: each file conforms, gets cards, and is exactly what its line in the README makes today."""

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cds_service.app import create_app
from cds_service.cli import main
from cds_service.config import REPO_ROOT, Settings
from tests.utils.conformance import assert_request_conforms, assert_response_conforms

REQUESTS = REPO_ROOT / "examples" / "requests"
RECIPE = re.compile(r"^((?:HER2_CDS_\w+=\S+ )*)\.venv/bin/her2-cds (call .+) > examples/requests/(\S+\.json)$")
# A card each file must get: the point of the example.
EXPECTED = {
    "patient-view-metastatic.json": "Second line or trastuzumab-resistant: T-DXd · Level I, inferred",
    # LVEF 47 % before a first T-DXd dose: the fit is folded under "not advised now" (issue 9 review).
    "order-sign-tdxd-metastatic.json": "Not advised now (LVEF below the start threshold): trastuzumab deruxtecan",
    "order-select-ogivri-early.json": "Fits consensus: Ogivri (trastuzumab), TCbHP ×6 (preferred neoadjuvant",
    "patient-view-local-codes.json": "TCbHP ×6 (preferred neoadjuvant regimen) · Level I, inferred",
    "order-sign-local-codes-zercepac.json": "Fits consensus: Zercepac (trastuzumab), TCbHP ×6",
}


def _recipes() -> dict[str, tuple[dict[str, str], list[str]]]:
    """file name -> (environment, her2-cds arguments), from the README's lines."""
    recipes = {}
    for line in (REQUESTS / "README.md").read_text(encoding="utf-8").splitlines():
        found = RECIPE.match(line)
        if found:
            env = dict(item.split("=", 1) for item in found.group(1).split())
            recipes[found.group(3)] = (env, shlex.split(found.group(2)))
    return recipes


RECIPES = _recipes()


def _load(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((REQUESTS / name).read_text(encoding="utf-8"))
    return body


def test_every_file_has_its_line_and_its_expected_card() -> None:
    files = sorted(p.name for p in REQUESTS.glob("*.json"))
    assert sorted(RECIPES) == files
    assert sorted(EXPECTED) == files
    assert {_load(name)["hook"] for name in files} == {"patient-view", "order-select", "order-sign"}


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_the_file_is_what_the_command_makes_today(
    name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env, argv = RECIPES[name]
    monkeypatch.chdir(REPO_ROOT)
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    assert main(argv) == 0

    made = json.loads(capsys.readouterr().out)
    stored = _load(name)
    assert made.pop("hookInstance") != stored.pop("hookInstance")  # a fresh one per request
    assert made == stored


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_the_file_conforms_and_gets_its_cards(name: str, tmp_path: Path) -> None:
    env, _ = RECIPES[name]
    maps = [REPO_ROOT / p for p in env.get("HER2_CDS_CONCEPT_MAPS", "").split(",") if p]
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", concept_maps=maps)
    body = _load(name)
    with TestClient(create_app(settings)) as client:
        services = client.get("/cds-services").json()["services"]
        service = next(s for s in services if s["hook"] == body["hook"])
        assert_request_conforms(body, service)

        response = client.post(f"/cds-services/{service['id']}", json=body)

    assert response.status_code == 200, response.text
    answer = response.json()
    assert_response_conforms(answer)
    assert any(card["summary"].startswith(EXPECTED[name]) for card in answer["cards"]), [
        card["summary"] for card in answer["cards"]
    ]


def test_the_readme_quick_start_posts_a_sample_request_that_gets_cards(tmp_path: Path) -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    curls = [line for line in readme.splitlines() if line.startswith("curl ")]
    assert len(curls) == 1
    found = re.search(r"--data @examples/requests/(\S+) http://127\.0\.0\.1:8080(/cds-services/\S+)$", curls[0])
    assert found, curls[0]
    name, path = found.groups()
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    with TestClient(create_app(settings)) as client:
        response = client.post(path, json=_load(name))

    assert response.status_code == 200
    assert any(card["summary"].startswith(EXPECTED[name]) for card in response.json()["cards"])
