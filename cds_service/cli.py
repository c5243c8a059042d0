"""Command line: `her2-cds <command>`; each command lives in its own module under commands/."""

import argparse
import importlib
import sys

from .config import Settings
from .ops.logs import configure_logging

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
    commands = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"cds_service.commands.{name}").register(commands)
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    return int(args.run(args, settings))


if __name__ == "__main__":
    sys.exit(main())
