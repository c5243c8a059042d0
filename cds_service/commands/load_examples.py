"""`her2-cds load-examples`: load example FHIR bundles into a FHIR server."""

import argparse

from ..config import Settings

__all__ = ["register"]


def run(args: argparse.Namespace, settings: Settings) -> int:
    from ..examples import load_examples

    report = load_examples(args.fhir_base, args.paths, wait_seconds=args.wait)
    for line in report.lines:
        print(line)
    return 0 if report.ok else 1


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    load = commands.add_parser("load-examples", help="load example FHIR bundles into a FHIR server")
    load.add_argument("fhir_base", help="FHIR base URL, e.g. http://localhost:8080/fhir")
    load.add_argument("paths", nargs="+", help="bundle files or folders of them")
    load.add_argument("--wait", type=float, default=0, help="seconds to wait for the server to come up")
    load.set_defaults(run=run)
