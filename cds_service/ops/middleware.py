"""Outermost per-request bookkeeping, as one plain ASGI layer: the request id, request counts by service and
status, hook latency, the access log, and the last-resort 500. No extra task or body stream per request, unlike
Starlette's BaseHTTPMiddleware (which cost about 0.3 ms a call); one layer where two cost a send wrapper each."""

import logging
import re
import time
import traceback
from collections.abc import Collection
from pathlib import Path
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..api.errors import Issue, outcome
from .logs import close_request_scope, open_request_scope
from .metrics import HOOK_LATENCY, REQUESTS

__all__ = ["PROBES", "OperationsMiddleware", "classify"]

PROBES = frozenset({"/healthz", "/readyz", "/metrics"})
# With or without the language prefix (/en, /zh-CN) that api.language serves.
_SERVICE_PATH = re.compile(r"^(?i:/en|/zh-cn)?/cds-services/([^/]+)(/feedback)?/?$")
_DISCOVERY_PATH = re.compile(r"^(?i:/en|/zh-cn)?/cds-services/?$")
access_log = logging.getLogger("cds_service.http")


def classify(path: str, services: Collection[str]) -> tuple[str, str]:
    """(endpoint, service) labels; unknown service ids become "unknown" so labels stay bounded."""
    if _DISCOVERY_PATH.match(path):
        return "discovery", ""
    match = _SERVICE_PATH.match(path)
    if match:
        service = match.group(1) if match.group(1) in services else "unknown"
        return ("feedback" if match.group(2) else "hook"), service
    if path in PROBES:
        return path.strip("/"), ""
    return "other", ""


class OperationsMiddleware:
    def __init__(self, app: ASGIApp, services: Collection[str]) -> None:
        self.app = app
        self.services = frozenset(services)
        # Metric children by label values (bounded: endpoints x known services x HTTP statuses): `labels()` takes a
        # lock and checks its arguments on every call.
        self._counts: dict[tuple[str, str, int], Any] = {}
        self._latencies: dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        endpoint, service = classify(path, self.services)
        status = 0  # 0 until the answer has begun
        started = time.perf_counter()
        request_id, token = open_request_scope()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append("X-Request-Id", request_id[0])
            await send(message)

        try:
            try:
                await self.app(scope, receive, send_with_id)
            except Exception as exc:
                # Exception messages may quote patient data: log the type and where it arose, never the message.
                frames = traceback.extract_tb(exc.__traceback__)[-4:]
                where = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))
                access_log.error("internal error %s at %s", type(exc).__name__, where)
                if status:  # the answer has begun: it cannot become a 500 any more
                    raise
                await outcome(500, [Issue("internal error", code="exception")])(scope, receive, send_with_id)
            # Path only: it names the service, never the patient; query strings and bodies are not logged.
            # Probes (health, readiness, metrics) come every few seconds: DEBUG, so they do not drown the log.
            level = logging.DEBUG if path in PROBES else logging.INFO
            if access_log.isEnabledFor(level):
                elapsed = (time.perf_counter() - started) * 1000
                # A hook call's line also says what it answered (note_request): cards, where its data came from.
                detail = request_id[1]
                access_log.log(
                    level, "%s %s %d %.1fms%s", scope["method"], path, status, elapsed, f" {detail}" if detail else ""
                )
        finally:
            close_request_scope(token)
            self._count(endpoint, service, status or 500)
            if endpoint == "hook":
                self._latency(service).observe(time.perf_counter() - started)

    def _count(self, endpoint: str, service: str, status: int) -> None:
        key = (endpoint, service, status)
        child = self._counts.get(key)
        if child is None:
            child = self._counts[key] = REQUESTS.labels(endpoint, service, str(status))
        child.inc()

    def _latency(self, service: str) -> Any:
        child = self._latencies.get(service)
        if child is None:
            child = self._latencies[service] = HOOK_LATENCY.labels(service)
        return child
