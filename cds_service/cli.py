"""Command line: `her2-cds serve`, `her2-cds feedback`, `her2-cds load-examples`."""

import argparse
import logging
import sys

from .config import Settings

__all__ = ["main"]


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from .app import create_app

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = settings.model_copy(update=overrides)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
    )
    return 0


def _feedback(args: argparse.Namespace, settings: Settings) -> int:
    from .store import FeedbackStore

    store = FeedbackStore(settings.database_url)
    for record in store.query(service_id=args.service, card_uuid=args.card, limit=args.limit):
        print(record.as_json())
    store.close()
    return 0


def _load_examples(args: argparse.Namespace, settings: Settings) -> int:
    from .examples import load_examples

    report = load_examples(args.fhir_base, args.paths, wait_seconds=args.wait)
    for line in report.lines:
        print(line)
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="her2-cds", description="HER2 CDS Hooks service")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the CDS Hooks service (defaults: 127.0.0.1:8080)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(run=_serve)

    feedback = commands.add_parser("feedback", help="print stored card feedback as JSON lines")
    feedback.add_argument("--service")
    feedback.add_argument("--card")
    feedback.add_argument("--limit", type=int, default=1000)
    feedback.set_defaults(run=_feedback)

    load = commands.add_parser("load-examples", help="load example FHIR bundles into a FHIR server")
    load.add_argument("fhir_base", help="FHIR base URL, e.g. http://localhost:8080/fhir")
    load.add_argument("paths", nargs="+", help="bundle files or folders of them")
    load.add_argument("--wait", type=float, default=0, help="seconds to wait for the server to come up")
    load.set_defaults(run=_load_examples)

    args = parser.parse_args(argv)
    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return int(args.run(args, settings))


if __name__ == "__main__":
    sys.exit(main())
