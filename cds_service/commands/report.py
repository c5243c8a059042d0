"""`her2-cds report`: the knowledge review report for a clinical committee, as one self-contained HTML file."""

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import REPO_ROOT, Settings

if TYPE_CHECKING:
    from ..knowledge.report import FeedbackData

__all__ = ["register"]


def run(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import UTC, datetime

    from ..clinical.engine import load_engine
    from ..datafiles import DataFileError, load_model
    from ..knowledge.models import KnowledgeFile
    from ..knowledge.report import ReportInput, build_report
    from ..knowledge.scenario_index import scan_scenarios

    try:
        engine = load_engine(settings.mappings_dir, settings.cards_dir, tuple(settings.concept_maps))
        titles = {}
        for path in sorted(settings.cards_dir.glob("*.yaml")):
            if path.name not in ("sources.yaml", "definitions.yaml"):
                chapter = load_model(path, KnowledgeFile)
                titles[chapter.chapter] = chapter.title
    except (DataFileError, ValueError) as exc:
        print(f"her2-cds report: INVALID {exc}", file=sys.stderr)
        return 1
    drugs = engine.terminology.drugs

    def drug_label(drug_id: str, language: str) -> str:
        drug = drugs.get(drug_id)
        if drug is None:
            return drug_id
        return drug.label.zh_CN if language == "zh-CN" else drug.label.en

    report = ReportInput(
        knowledge=engine.knowledge,
        version=engine.version,
        chapter_titles=titles,
        drug_label=drug_label,
        feedback=read_feedback(settings.database_url),
        scenarios=scan_scenarios(REPO_ROOT / "tests", engine.knowledge.entries),
        generated=datetime.now(UTC),
    )
    html = build_report(report, args.lang)
    out: Path = args.out or Path(f"knowledge-report-{engine.version.label}.{args.lang}.html")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    print(f"wrote {out} ({len(engine.knowledge.entries)} rows, knowledge {engine.version.label})")
    return 0


def read_feedback(database_url: str) -> "FeedbackData":
    """Feedback per rule from the service's database; an SQLite file that does not exist is not created."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from ..knowledge.report import FeedbackData
    from ..store.database import Database
    from ..store.summary import rule_summary

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        if not Path(url.database).exists():
            return FeedbackData()
    try:
        database = Database(database_url)
        try:
            return FeedbackData(rule_summary(database))
        finally:
            database.close()
    except SQLAlchemyError as exc:  # the report is still worth having without feedback: say why, no URL
        print(f"her2-cds report: feedback not read ({type(exc).__name__})", file=sys.stderr)
        return FeedbackData(error=type(exc).__name__)


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    report = commands.add_parser(
        "report", help="write the knowledge review report for a clinical committee (one self-contained HTML file)"
    )
    report.add_argument("--lang", choices=("en", "zh-CN"), default="en", help="language of the report (rows show both)")
    report.add_argument("--out", type=Path, help="output file (default: knowledge-report-<version>.<lang>.html)")
    report.set_defaults(run=run)
