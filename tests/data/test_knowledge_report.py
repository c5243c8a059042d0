"""`her2-cds report`: the committee's HTML report, generated through the CLI and read back against the data."""

import re
import socket
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cds_service.app import create_app
from cds_service.cli import main
from cds_service.clinical.engine import Engine, load_engine
from cds_service.config import Settings
from cds_service.knowledge.report import FeedbackData, ReportInput, build_report, needs_review
from cds_service.store.database import Database
from tests.scenarios import records as r
from tests.scenarios.helpers import extension, topic, view
from tests.utils import clinical as c
from tests.utils.htmltree import Element, parse

OVERRIDE = {"reason": {"code": "patient-declined", "system": "urn:her2-cds:override"}}


@pytest.fixture(scope="module")
def engine() -> Engine:
    s = Settings()
    return load_engine(s.mappings_dir, s.cards_dir, tuple(s.concept_maps))


def _report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, language: str, database: Path) -> tuple[str, Element]:
    monkeypatch.setenv("HER2_CDS_DATABASE_URL", f"sqlite:///{database}")
    out = tmp_path / f"report.{language}.html"
    assert main(["report", "--lang", language, "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    return html, parse(html)


def _row(page: Element, row_id: str) -> Element:
    return page.one("data-row", row_id)


def _field(row: Element, name: str) -> Element:
    return row.one("data-field", name)


def _section(row: Element, name: str) -> Element:
    return row.one("data-section", name)


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_every_row_is_in_the_report_once_with_its_grading_and_both_languages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: Engine, language: str
) -> None:
    html, page = _report(tmp_path, monkeypatch, language, tmp_path / "none.sqlite3")

    assert page.find_all(lambda e: e.tag == "html")[0].attrs["lang"] == language
    assert page.one("data-field", "version").text() == engine.version.label
    assert Counter(e.attrs["data-row"] for e in page.having("data-row")) == Counter(list(engine.knowledge.entries))
    for entry in engine.knowledge.entries.values():
        row = _row(page, entry.id)
        assert _field(row, "title-en").text() == entry.title.en
        assert _field(row, "title-zh-CN").text() == entry.title.zh_CN
        assert _field(row, "text-en").text() == entry.text.en
        assert _field(row, "text-zh-CN").text() == entry.text.zh_CN
        assert _field(row, "level-value").attrs["data-value"] == (entry.level or "")
        assert _field(row, "level-provenance").attrs["data-value"] == entry.level_provenance
        assert _field(row, "category-value").attrs["data-value"] == (entry.evidence_category or "")
        assert _field(row, "category-provenance").attrs["data-value"] == entry.category_provenance
        assert _field(row, "provenance").attrs["data-value"] == entry.provenance
        assert row.one("data-value", entry.reviewed.isoformat()).tag == "time"
        if entry.level_source:
            assert _field(row, "level-source").attrs["data-value"] == entry.level_source
        if entry.note:
            assert _field(row, "note-en").text() == entry.note.en
            assert _field(row, "note-zh-CN").text() == entry.note.zh_CN
        flagged = row.having("data-field", "review-flag")
        assert bool(flagged) == bool(needs_review(entry)), entry.id
        # Full citations, not labels: every source the row cites, in full, with its address when it has one.
        cited = {e.attrs["data-source"]: e for e in _section(row, "sources").having("data-source")}
        assert set(cited) == {*entry.sources, *filter(None, [entry.level_source])}
        for source_id, item in cited.items():
            source = engine.knowledge.sources[source_id]
            assert item.one("data-citation", source_id).text() == source.citation
            if source.url:
                assert [a.attrs["href"] for a in item.having("href")] == [source.url]
        # Every row has a scenario test, and the table scenario of tests/scenarios/test_rows.py comes first.
        tests = [t.attrs["data-test"] for t in _section(row, "scenarios").having("data-test")]
        assert tests and tests[0].endswith(f"test_rows.py::test_row_surfaces_for_a_patient_who_meets_it[{entry.id}]")
        assert _section(row, "feedback").one("data-value", "none")  # no database: nothing recorded yet
    assert "no feedback recorded yet" in html if language == "en" else "尚无反馈记录" in html


def test_inferred_rows_are_the_needs_review_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: Engine
) -> None:
    _, page = _report(tmp_path, monkeypatch, "en", tmp_path / "none.sqlite3")
    assert not (tmp_path / "none.sqlite3").exists()  # reading the feedback never creates a database

    listed = [e.attrs["data-review"] for e in page.one("id", "needs-review").having("data-review")]
    inferred = [e.id for e in engine.knowledge.entries.values() if needs_review(e)]
    assert sorted(listed) == sorted(inferred)
    assert any(e.provenance == "stated" and e.level_provenance != "inferred" for e in engine.knowledge.entries.values())
    assert page.one("data-count", "needs-review").text() == str(len(inferred))
    assert page.one("data-count", "rows").text() == str(len(engine.knowledge.entries))
    # The needs-review list comes before the first row, so the committee starts there.
    order = [e.attrs.get("id") for e in page.iter() if e.attrs.get("id") in ("needs-review", "contents", "row-T1")]
    assert order == ["needs-review", "contents", "row-T1"]
    links = {a.attrs["href"] for a in page.one("id", "contents").having("href")}
    assert {f"#row-{row}" for row in engine.knowledge.entries} <= links


def test_the_report_needs_nothing_outside_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty.sqlite3"
    Database(f"sqlite:///{empty}").close()  # the service's tables, no card issued yet
    html, page = _report(tmp_path, monkeypatch, "zh-CN", empty)

    assert page.one("data-field", "feedback-status").text() == "尚无反馈记录"

    assert not page.find_all(lambda e: e.tag in ("script", "link", "img", "iframe", "object", "embed"))
    assert not page.having("src") and not page.having("style")
    assert all(a.tag == "a" for a in page.having("href"))  # links to sources, nothing loaded
    assert "@import" not in html and "url(" not in html
    assert "@media print" in html


def test_feedback_numbers_are_those_recorded_through_the_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "feedback.sqlite3"
    settings = Settings(database_url=f"sqlite:///{database}")
    expected: dict[str, Counter[str]] = {}
    with TestClient(create_app(settings)) as client:
        specs = client.app.state.catalog  # type: ignore[attr-defined]
        templates = dict(specs["her2-patient-view"].prefetch)
        cards = [*view(client, templates, r.de_novo_metastatic()), *view(client, templates, r.de_novo_metastatic())]
        cards += view(client, templates, r.metastatic_after_first_line())
        ihc_2_plus = [c.breast_cancer(), c.her2_ihc("2+")]  # the T2 card offers an ISH order: it can be accepted
        cards += [*view(client, templates, ihc_2_plus), *view(client, templates, ihc_2_plus)]
        feedback: list[dict[str, Any]] = []
        for i, card in enumerate(cards):
            rules = list(dict.fromkeys([topic(card), *extension(card).get("rules", [])]))
            # A card is accepted by taking one of its suggestions (CDS Hooks 2.0); one without is overridden or left.
            suggestions = [s["uuid"] for s in card.get("suggestions", []) if s.get("uuid")]
            outcome = "accepted" if suggestions else ("overridden", None)[i % 2]
            for rule in rules:
                counts = expected.setdefault(rule, Counter())
                counts["issued"] += 1
                if outcome:
                    counts[outcome] += 1
            when = "2026-12-01T10:00:00Z"
            if outcome == "accepted":
                feedback.append(
                    {
                        "card": card["uuid"],
                        "outcome": outcome,
                        "acceptedSuggestions": [{"id": suggestions[0]}],
                        "outcomeTimestamp": when,
                    }
                )
            elif outcome == "overridden":
                feedback.append(
                    {"card": card["uuid"], "outcome": outcome, "overrideReason": OVERRIDE, "outcomeTimestamp": when}
                )
        assert {"accepted", "overridden"} <= {name for counts in expected.values() for name in counts}
        response = client.post("/cds-services/her2-patient-view/feedback", json={"feedback": feedback})
        assert response.status_code == 200, response.text

    _, page = _report(tmp_path, monkeypatch, "en", database)

    rows = [rule for rule in expected if page.having("data-row", rule)]
    assert {"M1", "M6", "T2"} <= set(rows)  # first-line and second-line options, and a testing row
    for rule, counts in expected.items():
        where = _section(_row(page, rule), "feedback") if rule in rows else page.one("data-rule", rule)
        numbers = {name: int(where.one("data-field", name).text()) for name in ("issued", "accepted", "overridden")}
        assert numbers == {name: counts[name] for name in numbers}, rule
        if counts["overridden"]:
            assert where.one("data-reason", "patient-declined").attrs["data-value"] == str(counts["overridden"])
    untouched = next(row for row in ("T3", "S3", "BIO1") if row not in expected)
    assert _section(_row(page, untouched), "feedback").one("data-value", "none")


def test_unreadable_cards_stop_the_report_with_the_file_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cards = tmp_path / "cards"
    cards.mkdir()
    for path in Settings().cards_dir.glob("*.yaml"):
        (cards / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    broken = cards / "metastatic.yaml"
    broken.write_text(
        re.sub(r"level_provenance: stated", "level_provenance: guessed", broken.read_text(encoding="utf-8"), count=1)
    )
    monkeypatch.setenv("HER2_CDS_CARDS_DIR", str(cards))

    assert main(["report", "--out", str(tmp_path / "r.html")]) == 1
    assert "metastatic.yaml" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize(
    ("scenarios", "expected"),
    [({}, "no scenario test"), (None, "test index not available (the tests folder is not installed with the package)")],
)
def test_a_row_without_scenario_test_says_so(engine: Engine, scenarios: dict[str, Any] | None, expected: str) -> None:
    """An installed wheel has no tests folder (None); a row no test names gets "no scenario test"."""
    data = ReportInput(
        knowledge=engine.knowledge,
        version=engine.version,
        chapter_titles={},
        drug_label=lambda drug, language: drug,
        feedback=FeedbackData(),
        scenarios=scenarios,
        generated=datetime(2026, 12, 1, tzinfo=UTC),
    )
    page = parse(build_report(data, "en"))

    assert {_section(_row(page, row), "scenarios").text() for row in engine.knowledge.entries} == {expected}


def test_an_unreachable_database_is_said_not_zeros(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # a port nothing listens on
    port = closed.getsockname()[1]
    closed.close()
    monkeypatch.setenv("HER2_CDS_DATABASE_URL", f"postgresql+psycopg://report@127.0.0.1:{port}/none")
    out = tmp_path / "report.html"

    assert main(["report", "--out", str(out)]) == 0  # the knowledge is still worth reviewing
    page = parse(out.read_text(encoding="utf-8"))
    assert page.one("data-field", "feedback-status").text() == "feedback could not be read: OperationalError"
    assert "feedback not read (OperationalError)" in capsys.readouterr().err
    assert {_section(_row(page, row), "feedback").text() for row in ("M1", "T1")} == {"feedback could not be read"}
