"""The request id on every answer: X-Request-Id added to the response's headers as starlette's MutableHeaders adds
it (the app's own list left as it was), and a generated one when no hook bound its own."""

import asyncio
from typing import Any

from starlette.datastructures import MutableHeaders

from cds_service.ops.logs import bind_request_id
from cds_service.ops.middleware import OperationsMiddleware


def _served(headers: list[tuple[bytes, bytes]], request_id: str | None) -> tuple[dict[str, Any], list[Any]]:
    """The http.response.start message the client gets, and the header list the app sent."""
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if request_id is not None:
            bind_request_id(request_id)
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/cds-services", "headers": []}
    asyncio.run(OperationsMiddleware(app, services=())(scope, receive, send))
    return sent[0], headers


def test_the_request_id_header_is_added_as_mutable_headers_added_it() -> None:
    own = [(b"content-type", b"application/json"), (b"x-request-id", b"from-the-app"), (b"vary", b"Origin")]

    start, sent_list = _served(list(own), "6f1c2b9e-0000-4000-8000-000000000001")

    expected = {"type": "http.response.start", "headers": list(own)}
    MutableHeaders(scope=expected).append("X-Request-Id", "6f1c2b9e-0000-4000-8000-000000000001")
    assert start["headers"] == expected["headers"]
    assert start["headers"] is not sent_list and sent_list == own  # the app's own list is left as it was


def test_a_generated_request_id_is_sent_when_none_is_bound() -> None:
    start, _ = _served([], None)

    ((name, value),) = start["headers"]
    assert name == b"x-request-id" and len(value) == 32
