"""Command line: `her2-cds serve`, `check-data`, `feedback`, `load-examples`."""

import argparse
import sys

from .config import Settings
from .ops.logs import configure_logging

__all__ = ["main"]


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from .app import create_app

    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = settings.model_copy(update=overrides)
    try:
        app = create_app(settings)
    except ValueError as exc:  # a refused configuration (e.g. an open service beyond loopback): say why, no traceback
        print(f"her2-cds: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        access_log=False,
        log_config=None,  # uvicorn's lines go through the root handler: JSON like the rest
    )
    return 0


def _check_data(args: argparse.Namespace, settings: Settings) -> int:
    """What a clinical committee runs after editing cards/ or mappings/: the start-up checks, and a summary."""
    from collections import Counter

    from .clinical.engine import load_engine
    from .datafiles import DataFileError

    try:
        engine = load_engine(settings.mappings_dir, settings.cards_dir, tuple(settings.concept_maps))
    except (DataFileError, ValueError) as exc:
        print(f"INVALID {exc}")
        return 1
    knowledge, terminology = engine.knowledge, engine.terminology
    chapters = Counter(knowledge.chapters.values())
    print(f"OK {len(knowledge.entries)} knowledge rows: " + ", ".join(f"{c} {n}" for c, n in sorted(chapters.items())))
    for field in ("provenance", "level_provenance", "category_provenance"):
        counts = Counter(getattr(e, field) for e in knowledge.entries.values())
        print(f"   {field}: " + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())))

    # Rows by the best kind of source they cite: a primary publication, guideline or label, a secondary
    # summary (news, Q&A or summary page) only, or domain knowledge only.
    def best(sources: list[str]) -> str:
        kinds = {knowledge.sources[s].kind for s in sources}
        if kinds & {"consensus", "guideline", "label", "trial", "regulatory"}:
            return "primary or guideline"
        return "secondary summary only" if "web" in kinds else "domain knowledge only"

    by_kind = Counter(best(e.sources) for e in knowledge.entries.values())
    print("   rows by source kind: " + ", ".join(f"{k} {n}" for k, n in sorted(by_kind.items())))
    codes = [c for d in terminology.drugs.values() for c in d.codes]
    codes += [c for p in terminology.products.values() for c in p.codes]
    statuses = Counter(c.status for c in codes)
    print(
        f"OK {len(terminology.drugs)} drugs, {len(terminology.products)} products, "
        f"{len(terminology.observation_codes)} observation codes, {len(terminology.value_codes)} result codes, "
        f"{len(terminology.staging_codes)} staging codes, {len(terminology.condition_codes)} condition codes, "
        f"{terminology.local_code_count} local codes from ConceptMaps"
    )
    print("   drug and product codes: " + ", ".join(f"{k} {n}" for k, n in sorted(statuses.items())))
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

    check = commands.add_parser("check-data", help="validate cards/ and mappings/ as start-up does, and summarise")
    check.set_defaults(run=_check_data)

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
    configure_logging(settings.log_level, settings.log_format)
    return int(args.run(args, settings))


if __name__ == "__main__":
    sys.exit(main())
