"""`her2-cds feedback`: stored card feedback, as JSON lines or as a summary per rule."""

import argparse
import json
from collections.abc import Iterable, Sequence

from ..config import Settings

__all__ = ["register", "summary_table"]

HEADER = ("rule", "issued", "accepted", "overridden", "override reasons", "knowledge versions")


def _counts(counts: Iterable[tuple[str, int]]) -> str:
    return "; ".join(f"{name}={count}" for name, count in counts) or "-"


def summary_table(rows: Sequence[tuple[str, ...]]) -> str:
    """Columns separated by at least two spaces (a reason code or version never holds two in a row)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)), row[-1]]).rstrip()
        for row in rows
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    from ..store import Database, FeedbackStore
    from ..store.summary import rule_summary

    if args.json and not args.summary:
        print("--json goes with --summary (feedback items are printed as JSON lines already)")
        return 2
    if args.summary:
        database = Database(settings.database_url)
        try:
            stats = rule_summary(database)
        finally:
            database.close()
        if args.json:
            print(json.dumps({"rules": [s.as_json() for s in stats.values()]}, ensure_ascii=False, indent=2))
            return 0
        rows = [HEADER] + [
            (
                s.rule,
                str(s.issued),
                str(s.accepted),
                str(s.overridden),
                _counts(s.override_reasons.most_common()),
                _counts(sorted(s.versions.items())),
            )
            for s in stats.values()
        ]
        print(summary_table(rows) if stats else "no cards recorded yet")
        return 0
    store = FeedbackStore(settings.database_url)
    for record in store.query(service_id=args.service, card_uuid=args.card, limit=args.limit):
        print(record.as_json())
    store.close()
    return 0


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    feedback = commands.add_parser(
        "feedback", help="print stored card feedback as JSON lines, or (--summary) the counts per rule"
    )
    feedback.add_argument("--service")
    feedback.add_argument("--card")
    feedback.add_argument("--limit", type=int, default=1000)
    feedback.add_argument(
        "--summary",
        action="store_true",
        help="per rule: cards issued, accepted, overridden, override reasons and knowledge versions seen",
    )
    feedback.add_argument("--json", action="store_true", help="with --summary: one JSON document")
    feedback.set_defaults(run=run)
