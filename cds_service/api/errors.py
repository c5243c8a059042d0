"""Errors as FHIR OperationOutcome JSON: visible, naming the field, never a stack trace or a fake 200."""

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fhir.resources.R4B.operationoutcome import OperationOutcome
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from ..store import UNAVAILABLE

__all__ = ["ApiError", "Issue", "install_error_handlers", "outcome", "validation_issues"]


log = logging.getLogger("cds_service.http")

# How long a client should wait before trying again when the database is unavailable.
RETRY_AFTER_SECONDS = 5


class Issue:
    def __init__(self, diagnostics: str, *, code: str = "invalid", expression: str | None = None) -> None:
        self.diagnostics = diagnostics
        self.code = code
        self.expression = expression

    def as_json(self) -> dict[str, Any]:
        issue: dict[str, Any] = {"severity": "error", "code": self.code, "diagnostics": self.diagnostics}
        if self.expression:
            issue["expression"] = [self.expression]
        return issue


class ApiError(Exception):
    def __init__(self, status: int, issues: Sequence[Issue], headers: dict[str, str] | None = None) -> None:
        super().__init__("; ".join(i.diagnostics for i in issues))
        self.status = status
        self.issues = list(issues)
        self.headers = headers


def outcome(status: int, issues: Sequence[Issue], headers: dict[str, str] | None = None) -> JSONResponse:
    body = OperationOutcome.model_validate({"issue": [i.as_json() for i in issues]})
    return JSONResponse(
        body.model_dump(mode="json", exclude_none=True, by_alias=True), status_code=status, headers=headers
    )


def validation_issues(exc: ValidationError, prefix: str = "") -> list[Issue]:
    issues = []
    for error in exc.errors():
        path = ".".join(str(part) for part in (prefix, *error["loc"]) if part != "")
        message = error["msg"].removeprefix("Value error, ")
        issues.append(Issue(f"{path or 'body'}: {message}", expression=path or None))
    return issues


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return outcome(exc.status, exc.issues, exc.headers)

    @app.exception_handler(HTTPException)
    async def _http_error(_: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "not-supported"}.get(exc.status_code, "processing")
        return outcome(exc.status_code, [Issue(str(exc.detail), code=code)])

    async def _database_unavailable(_: Request, exc: Exception) -> JSONResponse:
        # The driver's message may hold the database URL or statement parameters: the type only.
        log.error("database unavailable (%s): answered 503", type(exc).__name__)
        issue = Issue("the service's database is unavailable for now; try again shortly", code="transient")
        return outcome(503, [issue], {"Retry-After": str(RETRY_AFTER_SECONDS)})

    for unavailable in UNAVAILABLE:
        app.add_exception_handler(unavailable, _database_unavailable)

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        issues = [Issue(f"{'.'.join(map(str, e['loc']))}: {e['msg']}") for e in exc.errors()]
        return outcome(400, issues)
