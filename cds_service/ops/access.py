"""The access log and the last-resort 500, as plain ASGI: no extra task or body stream per request, unlike
Starlette's BaseHTTPMiddleware (which cost about 0.3 ms a call)."""

import logging
import time
import traceback
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..api.errors import Issue, outcome
from .middleware import PROBES

__all__ = ["AccessLogMiddleware"]

log = logging.getLogger("cds_service.http")


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        except Exception as exc:
            # Exception messages may quote patient data: log the type and where it arose, never the message.
            frames = traceback.extract_tb(exc.__traceback__)[-4:]
            where = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))
            log.error("internal error %s at %s", type(exc).__name__, where)
            if status:  # the answer has begun: it cannot become a 500 any more
                raise
            await outcome(500, [Issue("internal error", code="exception")])(scope, receive, send_and_note)
        # Path only: it names the service, never the patient; query strings and bodies are not logged.
        # Probes (health, readiness, metrics) come every few seconds: DEBUG, so they do not drown the log.
        path = scope["path"]
        if log.isEnabledFor(logging.DEBUG if path in PROBES else logging.INFO):
            log.log(
                logging.DEBUG if path in PROBES else logging.INFO,
                "%s %s %d %.1fms",
                scope["method"],
                path,
                status,
                (time.perf_counter() - started) * 1000,
            )
