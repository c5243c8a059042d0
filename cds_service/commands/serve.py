"""`her2-cds serve`: run the CDS Hooks service."""

import argparse
import logging
import sys

from ..config import Settings

__all__ = ["register"]


def run(args: argparse.Namespace, settings: Settings) -> int:
    from ..app import create_app
    from ..server import serve
    from ..startup import startup_summary

    overrides = {
        k: v for k, v in (("host", args.host), ("port", args.port), ("workers", args.workers)) if v is not None
    }
    settings = settings.model_copy(update=overrides)
    try:
        app = create_app(settings)
    except ValueError as exc:  # a refused configuration (e.g. an open service beyond loopback): say why, no traceback
        print(f"her2-cds: {exc}", file=sys.stderr)
        return 2
    problem = _database_problem(settings.database_url)
    if problem:
        print(f"her2-cds: database: {problem} (HER2_CDS_DATABASE_URL)", file=sys.stderr)
        return 2
    for line in startup_summary(settings, app.state.engine):
        logging.getLogger("cds_service.startup").info("%s", line)
    serve(app, settings)
    return 0


def _database_problem(url: str) -> str | None:
    """Reach and migrate the database before any worker starts: one line instead of a start-up traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    from ..store import Database
    from ..store.schema import SchemaTooNew

    try:
        Database(url).close()
    except SchemaTooNew as exc:
        return str(exc)
    except SQLAlchemyError as exc:  # the message may hold the URL; the type and the driver's code say enough
        return f"unreachable or refused ({type(exc).__name__})"
    return None


def _port(value: str) -> int:
    number = int(value)
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError("a TCP port is 0 to 65535")
    return number


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("at least 1")
    return number


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    serve = commands.add_parser("serve", help="run the CDS Hooks service (defaults: 127.0.0.1:8080)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=_port)
    serve.add_argument("--workers", type=_positive, help="worker processes (default HER2_CDS_WORKERS, 1; 2 on 2 cores)")
    serve.set_defaults(run=run)
