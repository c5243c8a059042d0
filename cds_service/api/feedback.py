"""POST /cds-services/{id}/feedback (CDS Hooks 2.0 §Feedback), stored durably, for cards this service issued."""

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from ..hooks.feedback import FeedbackRequest
from ..store import UnknownCards
from .deps import ServiceDep, StoreDep, authenticate, parse, read_json
from .errors import ApiError, Issue

__all__ = ["router"]

router = APIRouter(dependencies=[Depends(authenticate)])


@router.post("/cds-services/{service_id}/feedback")
async def feedback(service: ServiceDep, request: Request, store: StoreDep) -> dict[str, int]:
    body = parse(FeedbackRequest, await read_json(request))
    try:
        stored = await run_in_threadpool(store.add, service.id, body.feedback)
    except UnknownCards as exc:
        # 422: the body is valid, but names cards that cannot be traced to what this service answered.
        # The endpoint and the service exist, so not 404. Nothing of the request is stored (all or nothing).
        raise ApiError(
            422,
            [
                Issue(
                    f"feedback.{index}.card: '{card}' is not a card {service.id} issued; "
                    "no feedback of this request was stored",
                    code="not-found",
                    expression=f"feedback.{index}.card",
                )
                for index, card in exc.unknown
            ],
        ) from None
    return {"stored": stored}
