"""Everything the data cites is public or in the repository: no source points at a file outside it."""

import re
from pathlib import Path

import pytest
import yaml

from cds_service.config import REPO_ROOT, Settings
from cds_service.datafiles import load_model
from cds_service.knowledge.models import SourceFile

PUBLIC = re.compile(r"https?://[^\s)\"']+|doi:10\.\d{4,}/\S+")
REPOSITORY_PATH = re.compile(r"\b(?:docs|cards|mappings)/[\w./-]+\.(?:md|yaml|json|txt)\b")
# Where the knowledge was read before it was brought into docs/knowledge-sources/: never a citation.
OUTSIDE = re.compile(
    r"shared/knowledge|/work/|\.\./|(?<!docs/knowledge-sources/)\b(?:clinical-knowledge|codes-verified)\.md"
)


def _resolves(text: str) -> list[str]:
    """What the citation points at: public addresses, and repository files that exist. Empty: unresolved."""
    found = PUBLIC.findall(text)
    found += [path for path in REPOSITORY_PATH.findall(text) if (REPO_ROOT / path.rstrip(".")).is_file()]
    return found


def _used(node: object) -> set[str]:
    """`source:` values of code entries and approvals, anywhere below `node`."""
    if isinstance(node, dict):
        found = {node["source"]} if isinstance(node.get("source"), str) else set()
        return found.union(*(_used(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_used(v) for v in node))
    return set()


def _mapping_files() -> list[tuple[str, dict[str, object]]]:
    files = sorted(Settings().mappings_dir.glob("*.yaml"))
    return [(path.name, yaml.safe_load(path.read_text(encoding="utf-8"))) for path in files]


def _mapping_sources() -> list[tuple[str, str, str]]:
    """(file, source id, description) of every `sources:` entry of mappings/*.yaml."""
    return [(name, key, str(text)) for name, data in _mapping_files() for key, text in dict(data["sources"]).items()]


SOURCES = load_model(Settings().cards_dir / "sources.yaml", SourceFile).sources


@pytest.mark.parametrize("source_id", sorted(SOURCES))
def test_each_knowledge_source_is_public_or_in_the_repository(source_id: str) -> None:
    source = SOURCES[source_id]
    text = " ".join(filter(None, [source.citation, source.url]))

    assert _resolves(text), f"{source_id}: no DOI, URL or repository file in {text!r}"
    assert not OUTSIDE.search(text), f"{source_id} points outside the repository: {OUTSIDE.search(text)}"
    assert source.url is None or source.url.startswith("https://") or source.url.startswith("http://")


@pytest.mark.parametrize(("file", "source_id", "text"), _mapping_sources(), ids=lambda v: str(v)[:30])
def test_each_code_source_is_public_or_in_the_repository(file: str, source_id: str, text: str) -> None:
    assert _resolves(text), f"{file} {source_id}: no DOI, URL or repository file in {text!r}"
    assert not OUTSIDE.search(text), f"{file} {source_id} points outside the repository"


def test_every_code_source_key_is_checked() -> None:
    """The `source:` keys of code entries all name a source described (and so checked) above."""
    described = {(file, key) for file, key, _ in _mapping_sources()}
    for name, data in _mapping_files():
        used = _used({k: v for k, v in data.items() if k != "sources"})
        assert used, name
        assert {(name, key) for key in used} <= described, f"{name}: undescribed source(s)"


def test_the_cited_documents_are_in_the_repository_with_their_provenance() -> None:
    folder = REPO_ROOT / "docs" / "knowledge-sources"
    for name in ("clinical-knowledge.md", "codes-verified.md"):
        assert (folder / name).is_file() and (folder / name).stat().st_size > 10_000
    provenance = (folder / "README.md").read_text(encoding="utf-8")
    assert "Provenance and terms" in provenance and "clinical-knowledge.md" in provenance


def test_the_checks_catch_a_citation_outside_the_repository() -> None:
    assert not _resolves("Domain knowledge recorded in clinical-knowledge.md")
    assert OUTSIDE.search("see ../shared/knowledge/codes-verified.md §1a")
    assert not _resolves("see docs/knowledge-sources/missing.md")  # a repository path must exist
    assert _resolves("Wolff AC et al. J Clin Oncol 2018. doi:10.1200/JCO.2018.77.8738")
    assert Path(REPO_ROOT / "docs/knowledge-sources/codes-verified.md").is_file()
