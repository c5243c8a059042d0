"""`her2-cds call HOOK PATIENT`: one hook call for a patient's FHIR Bundle, its cards shown in the terminal.

In-process by default (the service on its embedded defaults, no server needed) or over HTTP with --url.
The request is what an EHR would send: a full prefetch from the bundle, draft orders for --order."""

import argparse
import asyncio
import json
import logging
import sys
import tempfile
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from ..config import Settings
from ..hookrequest import HOOKS, RequestError, build_request, bundle_resources, patient_id_of
from ..terminology import Terminology

__all__ = ["CallError", "register"]

SERVICE_PREFIX = "her2-"
IN_PROCESS_BASE = "http://her2-cds.in-process/cds-services"
TIMEOUT_SECONDS = 30.0


class CallError(Exception):
    """What went wrong, in one line for stderr."""


@dataclass(frozen=True)
class Target:
    """Where the request goes: the service id for the hook, its prefetch templates and the client to post with."""

    client: httpx.AsyncClient
    base: str  # the discovery URL; the service is under it
    service_id: str
    templates: Mapping[str, str]
    terminology: Terminology


def hook_of(name: str) -> str:
    hook = name.removeprefix(SERVICE_PREFIX)
    if hook not in HOOKS:
        raise CallError(f"unknown hook {name!r}; one of {', '.join(HOOKS)} (or the service ids her2-…)")
    return hook


def example_names(examples_dir: Path) -> list[str]:
    return sorted(p.stem for p in examples_dir.glob("*.json"))


def load_patient(patient: str, examples_dir: Path) -> list[dict[str, Any]]:
    """A Bundle (or single resource) file, or the name of an example patient, with or without .json."""
    path = Path(patient)
    if not path.is_file():
        path = examples_dir / f"{patient.removesuffix('.json')}.json"
        if not path.is_file():
            names = ", ".join(example_names(examples_dir)) or f"none in {examples_dir}"
            raise CallError(f"unknown patient {patient!r}: not a file, nor an example patient ({names})")
    try:
        bundle = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise CallError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise CallError(f"{path}: not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno})") from None
    except OSError as exc:
        raise CallError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        resources = bundle_resources(bundle)
        patient_id_of(resources)  # checked here, so the message can name the file
    except RequestError as exc:
        raise CallError(f"{path}: {exc}") from None
    return resources


def _service_url(url: str) -> str:
    """The discovery URL for --url, given as the service's root or its /cds-services."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise CallError(f"--url {url!r} is not an http(s) URL such as http://127.0.0.1:8080")
    base = url.rstrip("/")
    return base if base.endswith("/cds-services") else f"{base}/cds-services"


@asynccontextmanager
async def in_process(settings: Settings, hook: str) -> AsyncIterator[Target]:
    """The app itself, called through httpx without a socket. Its database is a temporary SQLite file, removed
    afterwards: cards issued for a trial call are not recorded in the user's database."""
    from ..app import create_app
    from ..datafiles import DataFileError

    with tempfile.TemporaryDirectory(prefix="her2-cds-call-") as scratch:
        local = settings.model_copy(update={"database_url": f"sqlite:///{Path(scratch) / 'call.sqlite3'}"})
        try:
            app = create_app(local)
        except (DataFileError, ValueError) as exc:  # a refused configuration or data file: the message names it
            raise CallError(str(exc)) from None
        spec = next(s for s in app.state.catalog.values() if s.hook == hook)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), timeout=TIMEOUT_SECONDS) as client,
        ):
            yield Target(client, IN_PROCESS_BASE, spec.id, dict(spec.prefetch), app.state.engine.terminology)


@asynccontextmanager
async def over_http(settings: Settings, hook: str, url: str) -> AsyncIterator[Target]:
    """A running service: its discovery endpoint names the service for the hook and the prefetch it wants."""
    from ..datafiles import DataFileError
    from ..terminology import load_terminology

    base = _service_url(url)
    try:
        terminology = load_terminology(settings.mappings_dir, settings.concept_maps)
    except (DataFileError, ValueError) as exc:
        raise CallError(str(exc)) from None
    async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, trust_env=False) as client:
        try:
            response = await client.get(base)
        except httpx.TransportError as exc:
            raise CallError(f"cannot reach {base} ({type(exc).__name__}); is the service running (make run)?") from None
        if response.status_code != 200:
            raise CallError(f"discovery {base}: {_failure(response)}")
        try:
            services = response.json()["services"]
            service = next(s for s in services if isinstance(s, dict) and s.get("hook") == hook)
            service_id, templates = str(service["id"]), dict(service.get("prefetch") or {})
        except (ValueError, KeyError, TypeError, AttributeError):
            raise CallError(f"discovery {base}: not a CDS Hooks discovery response") from None
        except StopIteration:
            raise CallError(f"discovery {base}: no service for {hook}") from None
        yield Target(client, base, service_id, templates, terminology)


def _failure(response: httpx.Response) -> str:
    """HTTP status and the OperationOutcome's diagnostics, on one line."""
    try:
        issues = response.json().get("issue") or []
        said = "; ".join(str(i.get("diagnostics") or i.get("code")) for i in issues if isinstance(i, dict))
    except (ValueError, AttributeError):
        said = response.text[:200]
    return " ".join(f"HTTP {response.status_code} {said}".split())


async def call(args: argparse.Namespace, settings: Settings) -> tuple[dict[str, Any], str, dict[str, Any] | None]:
    """The request, the service id it went to, and the service's answer (None with --request-only)."""
    hook = hook_of(args.hook)
    resources = load_patient(args.patient, settings.examples_dir)
    target = over_http(settings, hook, args.url) if args.url else in_process(settings, hook)
    async with target as service:
        try:
            request = build_request(hook, resources, service.templates, service.terminology, orders=args.order)
        except RequestError as exc:
            raise CallError(str(exc)) from None
        if args.request_only:
            return request, service.service_id, None
        headers = {"Accept-Language": args.lang} if args.lang else {}
        try:
            response = await service.client.post(f"{service.base}/{service.service_id}", json=request, headers=headers)
        except httpx.TransportError as exc:
            raise CallError(f"no answer from {service.service_id} ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise CallError(f"{service.service_id}: {_failure(response)}")
        try:
            answer: dict[str, Any] = response.json()
        except ValueError:
            raise CallError(f"{service.service_id}: the answer is not JSON") from None
        return request, service.service_id, answer


def run(args: argparse.Namespace, settings: Settings) -> int:
    from .render import render_cards

    # In-process, the service's own log lines (start-up warnings, one line per call) would crowd the cards.
    service_log = logging.getLogger("cds_service")
    level = service_log.level
    if not args.url:
        service_log.setLevel(logging.ERROR)
    try:
        request, service_id, answer = asyncio.run(call(args, settings))
    except CallError as exc:
        print(f"her2-cds call: {exc}", file=sys.stderr)
        return 1
    finally:
        service_log.setLevel(level)
    if answer is None:
        print(json.dumps(request, ensure_ascii=False, indent=2))
        return 0
    if args.json:
        print(json.dumps(answer, ensure_ascii=False, indent=2))
    else:
        render_cards(answer, service_id=service_id, patient_id=request["context"]["patientId"])
    return 0


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    call_parser = commands.add_parser(
        "call",
        help="call a hook for a patient's FHIR Bundle (or an example patient) and show the cards",
        description="Builds the request an EHR would send (full prefetch; draft orders for --order) and shows "
        "the cards. In-process unless --url names a running service.",
    )
    call_parser.add_argument("hook", help="patient-view, order-select or order-sign (or her2-patient-view, …)")
    call_parser.add_argument("patient", help="a FHIR Bundle or resource file, or an example patient's name")
    call_parser.add_argument(
        "--order",
        action="append",
        default=[],
        metavar="DRUG",
        help="a drug to order (name, brand, Chinese name or id; repeat for more) for order-select/order-sign",
    )
    call_parser.add_argument("--lang", choices=["en", "zh-CN"], help="card language (sent as Accept-Language)")
    call_parser.add_argument("--url", help="a running service, e.g. http://127.0.0.1:8080 (default: in-process)")
    call_parser.add_argument("--json", action="store_true", help="print the CDS Hooks response JSON")
    call_parser.add_argument("--request-only", action="store_true", help="print the request instead of sending it")
    call_parser.set_defaults(run=run)
