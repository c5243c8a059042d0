"""Outermost per-request bookkeeping: the request id, request counts by service and status, hook latency."""

import re
import time
from collections.abc import Collection

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .logs import request_scope
from .metrics import HOOK_LATENCY, REQUESTS

__all__ = ["PROBES", "OperationsMiddleware", "classify"]

PROBES = frozenset({"/healthz", "/readyz", "/metrics"})
# With or without the language prefix (/en, /zh-CN) that api.language serves.
_SERVICE_PATH = re.compile(r"^(?i:/en|/zh-cn)?/cds-services/([^/]+)(/feedback)?/?$")
_DISCOVERY_PATH = re.compile(r"^(?i:/en|/zh-cn)?/cds-services/?$")


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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        endpoint, service = classify(scope["path"], self.services)
        status = 500
        started = time.perf_counter()
        with request_scope() as request_id:

            async def send_with_id(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    MutableHeaders(scope=message).append("X-Request-Id", request_id[0])
                await send(message)

            try:
                await self.app(scope, receive, send_with_id)
            finally:
                REQUESTS.labels(endpoint, service, str(status)).inc()
                if endpoint == "hook":
                    HOOK_LATENCY.labels(service).observe(time.perf_counter() - started)
