"""Every card names the knowledge that produced it: the engine's version, in the extension and in the detail."""

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cds_service.clinical.engine import load_engine
from cds_service.config import REPO_ROOT

from . import records as r
from .helpers import extension, order_named, sign, view


def _engine_version(client: TestClient) -> str:
    label: str = client.app.state.engine.version.label  # type: ignore[attr-defined]
    return label


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_every_card_of_a_call_carries_the_engines_knowledge_version(
    client: TestClient, templates: dict[str, str], lang: str
) -> None:
    version = _engine_version(client)
    cards = view(client, templates, r.metastatic_after_first_line(hr=True), lang=lang)
    cards += sign(client, templates, r.her2_positive(), order_named("trastuzumab deruxtecan"), lang=lang)

    assert len(cards) >= 3
    assert {extension(card)["knowledgeVersion"] for card in cards} == {version}
    line = ("*Knowledge " if lang == "en" else "*知识版本 ") + version + "*"
    # The last paragraph of every card, after its sources: small, and never before the clinical text.
    assert all(card["detail"].split("\n\n")[-1] == line for card in cards)


def _copy_knowledge(into: Path) -> tuple[Path, Path]:
    cards, mappings = into / "cards", into / "mappings"
    shutil.copytree(REPO_ROOT / "cards", cards)
    shutil.copytree(REPO_ROOT / "mappings", mappings)
    return cards, mappings


def test_the_version_names_the_content_not_the_folder(tmp_path: Path) -> None:
    original = load_engine(REPO_ROOT / "mappings", REPO_ROOT / "cards").version.label
    cards, mappings = _copy_knowledge(tmp_path / "copy")
    assert load_engine(mappings, cards).version.label == original  # same bytes elsewhere: same version

    rows = sorted(p for p in cards.glob("*.yaml") if p.name not in ("sources.yaml", "definitions.yaml"))
    rows[0].write_bytes(rows[0].read_bytes() + b"\n")  # one byte more, no meaning changed
    changed = load_engine(mappings, cards).version.label

    assert changed != original
    assert changed.split("+")[0] == original.split("+")[0]  # the review date is the same; the digest is not
