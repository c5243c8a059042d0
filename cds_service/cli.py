"""Command line: `her2-cds <command>`; each command lives in its own module under commands/."""

import argparse
import importlib
import sys

from pydantic import ValidationError

from . import __version__
from .config import Settings
from .datafiles import DataFileError
from .ops.logs import configure_logging
from .settings_errors import describe_settings_error

__all__ = ["main"]

# One line per command; the module's `register` adds its parser.
COMMANDS = (
    "serve",
    "check_data",
    "feedback",
    "db",
    "load_examples",
    "codes",
    "call",
    "report",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="her2-cds", description="HER2 CDS Hooks service")
    parser.add_argument("--version", action="store_true", help="print the package and knowledge versions")
    commands = parser.add_subparsers(dest="command")
    for name in COMMANDS:
        importlib.import_module(f"cds_service.commands.{name}").register(commands)
    args = parser.parse_args(argv)
    if not args.version and args.command is None:
        parser.error("a command is required")
    # What an operator got wrong (a setting, a data file) is one line on stderr and exit 2, never a traceback.
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"her2-cds: configuration error: {describe_settings_error(exc)}", file=sys.stderr)
        return 2
    try:
        if args.version:
            return _print_versions(settings)
        configure_logging(settings.log_level, settings.log_format)
        return int(args.run(args, settings))
    except DataFileError as exc:
        print(f"her2-cds: data file error: {exc}", file=sys.stderr)
        return 2


def _print_versions(settings: Settings) -> int:
    """e.g. `her2-cds 0.1.0 (knowledge 2026-12-01+d7dbccf3ffa3)`: the knowledge loaded with these settings."""
    from .clinical.engine import load_engine

    try:
        engine = load_engine(settings.mappings_dir, settings.cards_dir, tuple(settings.concept_maps))
    except ValueError as exc:  # a cross-file check of the data (e.g. a drug id defined twice)
        print(f"her2-cds: data error: {exc}", file=sys.stderr)
        return 2
    print(f"her2-cds {__version__} (knowledge {engine.version.label})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
