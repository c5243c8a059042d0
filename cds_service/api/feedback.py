"""POST /cds-services/{id}/feedback (CDS Hooks 2.0 §Feedback), stored durably."""

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from ..hooks.feedback import FeedbackRequest
from .deps import ServiceDep, StoreDep, authenticate, parse, read_json

__all__ = ["router"]

router = APIRouter(dependencies=[Depends(authenticate)])


@router.post("/cds-services/{service_id}/feedback")
async def feedback(service: ServiceDep, request: Request, store: StoreDep) -> dict[str, int]:
    body = parse(FeedbackRequest, await read_json(request))
    stored = await run_in_threadpool(store.add, service.id, body.feedback)
    return {"stored": stored}
