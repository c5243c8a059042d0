"""`her2-cds feedback`: stored card feedback."""

import argparse

from ..config import Settings

__all__ = ["register"]


def run(args: argparse.Namespace, settings: Settings) -> int:
    from ..store import FeedbackStore

    store = FeedbackStore(settings.database_url)
    for record in store.query(service_id=args.service, card_uuid=args.card, limit=args.limit):
        print(record.as_json())
    store.close()
    return 0


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    feedback = commands.add_parser("feedback", help="print stored card feedback as JSON lines")
    feedback.add_argument("--service")
    feedback.add_argument("--card")
    feedback.add_argument("--limit", type=int, default=1000)
    feedback.set_defaults(run=run)
