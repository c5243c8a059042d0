"""`/readyz` (data loaded, database reachable) and `/metrics` (Prometheus), beside `/healthz`."""

import asyncio
import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .metrics import REGISTRY

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
log = logging.getLogger("cds_service.ops")
READY_TIMEOUT_SECONDS = 2.0


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    checks = {
        "data": getattr(state, "engine", None) is not None and getattr(state, "catalog", None) is not None,
        "database": False,
    }
    database = getattr(state, "database", None)  # set once start-up has finished
    if database is not None:
        try:
            checks["database"] = await asyncio.wait_for(asyncio.to_thread(database.ping), READY_TIMEOUT_SECONDS)
        except TimeoutError:
            log.warning("readiness: database did not answer within %.0fs", READY_TIMEOUT_SECONDS)
    ready = all(checks.values())
    body = {
        "status": "ready" if ready else "not ready",
        "checks": {k: "ok" if v else "fail" for k, v in checks.items()},
    }
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics")
async def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
