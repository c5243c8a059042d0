"""POST /cds-services/{id}: request → FHIR data → rules → cards."""

import logging
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from ..clinical.record import medications_to_fetch
from ..config import Settings
from ..fhir import DataUnavailable, FhirClient, FhirError, gather_patient_data
from ..hooks.request import HookRequest
from ..hooks.response import HookResponse, dump
from ..ops import bind_request_id, record_cards
from .deps import HttpDep, ServiceDep, SettingsDep, authenticate, parse, read_json, request_language
from .errors import ApiError, Issue

__all__ = ["router"]

router = APIRouter(dependencies=[Depends(authenticate)])
log = logging.getLogger("cds_service.hooks")


def _allowed(base: str, allowlist: list[str]) -> bool:
    prefixes = [p.rstrip("/") for p in allowlist]
    return not prefixes or any(base == p or base.startswith(p + "/") for p in prefixes)


def fhir_client_factory(
    hook_request: HookRequest, http: httpx.AsyncClient, settings: Settings
) -> Callable[[], FhirClient]:
    def build() -> FhirClient:
        base = hook_request.fhir_base
        if base is None:
            raise FhirError("not in prefetch and no fhirServer to fetch it from")
        if not _allowed(base, settings.fhir_server_allowlist):
            raise FhirError("fhirServer is not on this service's allowlist")
        token = hook_request.fhirAuthorization.access_token if hook_request.fhirAuthorization else None
        return FhirClient(
            http,
            settings.fhir_server_aliases.get(base, base),
            token,
            timeout=settings.fhir_request_timeout_seconds,
            max_pages=settings.fhir_max_pages,
            public_base_url=base,
        )

    return build


@router.post("/cds-services/{service_id}")
async def call_service(service: ServiceDep, request: Request, settings: SettingsDep, http: HttpDep) -> JSONResponse:
    started = time.perf_counter()
    hook_request = parse(HookRequest, await read_json(request))
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

    try:
        data = await gather_patient_data(
            service.prefetch,
            hook_request.context,
            hook_request.prefetch,
            fhir_client_factory(hook_request, http, settings),
            deadline_seconds=settings.hook_deadline_seconds - (time.perf_counter() - started),
            extra_reads=medications_to_fetch(context.orders_to_check(), hook_request.context.get("draftOrders")),
            optional=service.optional_prefetch,
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

    language = request_language(request, settings.language)
    response = HookResponse(cards=service.evaluate(context, data, language, datetime.now(UTC).date()))
    await record_cards(request, service.id, response.cards)
    log.info(
        "hook=%s instance=%s cards=%d data=%s ms=%.1f",
        service.id,
        hook_request.hookInstance,
        len(response.cards),
        dict(Counter(data.origin.values())),
        (time.perf_counter() - started) * 1000,
    )
    return JSONResponse(dump(response))
