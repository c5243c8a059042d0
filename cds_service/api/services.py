"""POST /cds-services/{id}: request → FHIR data → rules → cards."""

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import httpx
from fastapi import Request
from fastapi.responses import Response
from pydantic import TypeAdapter

from ..catalog import ServiceSpec
from ..clinical.record import medications_to_fetch
from ..config import Settings
from ..fhir import DataUnavailable, FhirClient, FhirError, PatientData, gather_patient_data
from ..fhir.guard import UnsafeUrl, is_internal_host, is_under, normalise_url
from ..hooks.request import HookContext, HookRequest
from ..hooks.response import Card, HookResponse
from ..ops import bind_request_id, note_request, record_cards
from .deps import authenticated_service, parse, read_json
from .errors import ApiError, Issue
from .language import request_language

__all__ = ["HOOK_PATH", "HookAnswer", "answer_hook", "call_service"]

# The route (call_service) is added to the app itself (app.py), and calls `authenticate` itself
# (authenticated_service), before anything else.
HOOK_PATH = "/cds-services/{service_id}"
log = logging.getLogger("cds_service.hooks")
_response_json = TypeAdapter(HookResponse).dump_json


# The rules get at least this long, even when fetching used most of the deadline: the hook's bound is the
# deadline plus this margin.
ENGINE_MARGIN_SECONDS = 1.0
# Orders are checked against each other (duplicates, combinations): more draft orders than an order set holds
# send the rules to the engine threads whatever the record's size.
INLINE_DRAFT_ORDERS = 20


def fhir_server_refusal(base: str, settings: Settings) -> str | None:
    """Why the service will not call this fhirServer, or None. Compared after normalisation, so `..`, encoded
    dots, default ports and numeric IP spellings cannot slip past the allowlist."""
    if base in settings.fhir_server_aliases:
        return None  # named by the operator
    try:
        normalised = normalise_url(base)
    except UnsafeUrl:
        return "fhirServer is not a plain http(s) URL"
    if settings.fhir_server_allowlist:
        prefixes = [normalise_url(p).rstrip("/") for p in settings.fhir_server_allowlist]
        if any(is_under(normalised, p) for p in prefixes):
            return None
        return "fhirServer is not on this service's allowlist"
    if is_internal_host(normalised):
        # Secure by default: without an allowlist, callers may not point the service at this machine or its network.
        return "fhirServer is a loopback, private or link-local address; only an allowlisted one may be"
    return None


def fhir_client_factory(
    hook_request: HookRequest, http: httpx.AsyncClient, settings: Settings
) -> Callable[[], FhirClient]:
    def build() -> FhirClient:
        base = hook_request.fhir_base
        if base is None:
            raise FhirError("not in prefetch and no fhirServer to fetch it from")
        refusal = fhir_server_refusal(base, settings)
        if refusal:
            raise FhirError(refusal)
        token = hook_request.fhirAuthorization.access_token if hook_request.fhirAuthorization else None
        try:
            return _client(base, token)
        except UnsafeUrl:
            raise FhirError("fhirServer is not a plain http(s) URL") from None

    def _client(base: str, token: str | None) -> FhirClient:
        return FhirClient(
            http,
            settings.fhir_server_aliases.get(base, base),
            token,
            timeout=settings.fhir_request_timeout_seconds,
            max_pages=settings.fhir_max_pages,
            public_base_url=base,
            max_response_bytes=settings.fhir_max_response_bytes,
            max_resources=settings.max_resources_per_key,
            max_call_bytes=settings.fhir_max_call_bytes,
        )

    return build


@dataclass(frozen=True)
class HookAnswer:
    """A hook call's cards, and the context and data the rules read (the preview shows the facts from them)."""

    response: HookResponse
    context: HookContext
    data: PatientData


async def call_service(request: Request) -> Response:
    service = await authenticated_service(request)
    state = request.app.state
    settings: Settings = state.settings
    body = await read_json(request)
    language = request_language(request, settings.language)
    response = (await answer_hook(service, body, language, settings, state.http, state.engine_pool)).response
    # Freed before waiting for the record: calls waiting together would otherwise each hold their whole record
    # (the parsed body and the patient data), which cost concurrent calls CPU in cache misses.
    del body
    await record_cards(request, service.id, response.cards)
    # pydantic's own serializer writes the JSON bytes directly: the same JSON as dump() + JSONResponse, faster
    # (and as bytes: model_dump_json took twice as long, and its text had to be encoded again).
    return Response(_response_json(response, exclude_none=True), media_type="application/json")


async def answer_hook(
    service: ServiceSpec,
    body: dict[str, Any],
    language: str,
    settings: Settings,
    http: httpx.AsyncClient,
    pool: Executor,
) -> HookAnswer:
    """Everything a hook call does but record its cards: the route records them, the preview page must not."""
    started = time.perf_counter()
    hook_request = parse(HookRequest, body)
    bind_request_id(hook_request.hookInstance)
    if hook_request.hook != service.hook:
        raise ApiError(
            400,
            [
                Issue(
                    f"hook: service '{service.id}' answers '{service.hook}', not '{hook_request.hook}'",
                    expression="hook",
                )
            ],
        )
    context = parse(service.context_model, hook_request.context, prefix="context")
    draft_orders = hook_request.context.get("draftOrders")
    entries = draft_orders.get("entry") if isinstance(draft_orders, dict) else None
    if isinstance(entries, list) and len(entries) > settings.max_draft_orders:
        raise ApiError(
            413,
            [
                Issue(
                    f"context.draftOrders: {len(entries)} orders, more than the {settings.max_draft_orders} "
                    "this service checks in one call",
                    code="too-costly",
                    expression="context.draftOrders",
                )
            ],
        )
    wanted = medications_to_fetch(context.orders_to_check(), draft_orders)
    reads = dict(list(wanted.items())[: settings.max_medication_reads])
    skipped = {
        key: f"not read: more than {settings.max_medication_reads} orders name their drug only by reference"
        for key in wanted
        if key not in reads
    }

    try:
        data = await gather_patient_data(
            service.prefetch,
            hook_request.context,
            hook_request.prefetch,
            fhir_client_factory(hook_request, http, settings),
            deadline_seconds=settings.hook_deadline_seconds - (time.perf_counter() - started),
            extra_reads=reads,
            optional=service.optional_prefetch,
            max_resources=settings.max_resources_per_key,
            not_read=skipped,
            # Details (HTTP 403, timed out…) only for allowlisted servers, which the operator chose, or in debug mode:
            # for a server a caller names freely they would map a network.
            explain=settings.debug_errors or bool(settings.fhir_server_allowlist),
        )
    except DataUnavailable as exc:
        log.warning(
            "hook=%s instance=%s status=412 keys=%s",
            service.id,
            hook_request.hookInstance,
            ",".join(sorted(exc.problems)),
        )
        raise ApiError(
            412,
            [
                Issue(f"prefetch '{key}': {reason}", code="processing", expression=f"prefetch.{key}")
                for key, reason in sorted(exc.problems.items())
            ],
        ) from None

    today = datetime.now(UTC).date()
    drafts = len(entries) if isinstance(entries, list) else 0
    if sum(map(len, data.resources.values())) <= settings.engine_inline_resources and drafts <= INLINE_DRAFT_ORDERS:
        # A small record: its rules take less than handing them to a thread would cost (Settings).
        cards = service.evaluate(context, data, language, today)
    else:
        budget = max(settings.hook_deadline_seconds - (time.perf_counter() - started), 0) + ENGINE_MARGIN_SECONDS
        evaluate = partial(service.evaluate, context, data, language, today)
        cards = await _evaluate_in_thread(
            evaluate, pool, budget, f"hook={service.id} instance={hook_request.hookInstance}"
        )
    response = HookResponse(cards=cards)
    # On the call's access log line (its request id is the hookInstance, its path names the service).
    note_request(
        f"cards={len(response.cards)} data={dict(Counter(data.origin.values()))} "
        f"answer_ms={(time.perf_counter() - started) * 1000:.1f}"
    )
    return HookAnswer(response, context, data)


async def _evaluate_in_thread(
    evaluate: Callable[[], list[Card]], pool: Executor, budget: float, call: str
) -> list[Card]:
    """The rules of a large record in a worker thread: the event loop (other calls, /healthz) keeps answering
    meanwhile, and a record that needs more than the deadline gets 413 instead of a late answer."""
    try:
        return await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(pool, evaluate), budget)
    except TimeoutError:
        log.warning("%s status=413 engine over budget", call)
        raise ApiError(
            413,
            [Issue("the record needs more work than the hook deadline allows; send less", code="too-costly")],
        ) from None
