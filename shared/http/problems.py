"""RFC 9457 problem details for every error a service returns."""

from __future__ import annotations

import traceback
from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.contracts.event import storable_text
from shared.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    InvalidState,
    NotFound,
)
from shared.eventstore.errors import ConcurrencyConflict
from shared.service_layer.retry import UNAVAILABLE
from shared.service_layer.unit_of_work import CommitOutcomeUnknown

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_S = 5
"""What a 503 tells the client to wait before trying again (as `/healthz` says the service is down)."""
PROBLEM_BASE = "https://qyzmet.kz/problems/"
"""One scheme of problem type URIs for every service: the base and the kind, e.g. `…/not-found`."""


def problem_type(code: str) -> str:
    return PROBLEM_BASE + code.replace("_", "-")


_DOMAIN_ANSWERS: tuple[tuple[type[DomainError], int, str], ...] = (
    (NotFound, 404, "Not found"),
    (Forbidden, 403, "Forbidden"),
    (InvalidInput, 422, "Command refused"),
    (InvalidState, 409, "Command refused"),
    (Conflict, 409, "Conflict"),
)
"""How each kind of domain refusal answers over HTTP; the domain itself never names a status."""


class Problem(Exception):
    """Raise to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        type_: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type_
        self.headers = headers or {}
        self.extra = extra


def domain_problem(exc: DomainError) -> Problem:
    """The problem document of a domain refusal (an unknown kind is a 500: a programming error)."""
    for kind, status, title in _DOMAIN_ANSWERS:
        if isinstance(exc, kind):
            extra = dict(exc.extra)
            if exc.errors:
                extra["errors"] = exc.errors
            return Problem(status, exc.title or title, exc.message, type_=problem_type(exc.code), **extra)
    return Problem(500, "Internal error", "the error was logged with its correlation id")


_KIND_OF_STATUS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    422: "invalid-request",
    500: "internal-error",
    503: "unavailable",
}
"""The kind of an answer that names none of its own: every problem has a type of the one scheme."""


def problem_response(
    status: int, title: str, detail: str | None = None, type_: str | None = None, **extra: Any
) -> JSONResponse:
    kind = type_ or problem_type(_KIND_OF_STATUS.get(status, "request-failed"))
    body: dict[str, Any] = {"type": kind, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    # A part of the path can be the caller's own text (an unknown member's name): kept storable.
    return storable_text(".".join(str(part) for part in loc), 300)


def validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    """Each failed field of a request: its dotted path and the reason (never the value)."""
    return [
        {
            "field": _field_path(err.get("loc", ())),
            "reason": storable_text(str(err.get("msg", "invalid")), 500),
        }
        for err in exc.errors()
    ]


def validation_problem(exc: RequestValidationError) -> JSONResponse:
    errors = validation_errors(exc)
    return problem_response(
        422, "Request is invalid", f"{len(errors)} field(s) failed validation", errors=errors
    )


def install_problem_handlers(app: FastAPI) -> None:
    async def _answer(request: Request, exc: Exception) -> JSONResponse:
        return error_answer(request, exc)

    # Not `Exception`: Starlette re-raises what its handler took (the server then logs the
    # message); anything else is answered by `shared.http.app.ContainErrors`.
    answered = (
        Problem,
        DomainError,
        asyncpg.DataError,
        ConcurrencyConflict,
        OverflowError,
        CommitOutcomeUnknown,
    )
    for kind in (*answered, *UNAVAILABLE):
        app.add_exception_handler(kind, _answer)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_problem(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {
            401: "Unauthorized",
            403: "Forbidden",
            404: "Not found",
            405: "Method not allowed",
            413: "Request body too large",
        }.get(exc.status_code, "Request failed")
        response = problem_response(exc.status_code, title, str(exc.detail) if exc.detail else None)
        if exc.headers:
            response.headers.update(exc.headers)
        return response


def unavailable(detail: str) -> Problem:
    """503 with `Retry-After`: the service is starting, or its database is out of reach."""
    return Problem(
        503,
        "Service unavailable",
        detail,
        type_=problem_type("unavailable"),
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def unavailable_answer(detail: str = "the database is out of reach; try again later") -> JSONResponse:
    response = problem_response(
        503,
        "Service unavailable",
        detail,
        type_=problem_type("unavailable"),
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


def error_answer(request: Request, exc: Exception) -> JSONResponse:
    """The answer to an error no narrower handler took (also for errors inside another handler,
    such as the malformed-submission recorder). Logs name the error's type and place only: an
    exception's message may quote the request (an ИИН, a name)."""
    if isinstance(exc, Problem):
        response = problem_response(exc.status, exc.title, exc.detail, exc.type, **exc.extra)
        response.headers.update(exc.headers)
        return response
    if isinstance(exc, DomainError):
        problem = domain_problem(exc)
        if problem.status >= 500:
            log.error("unhandled domain error", path=request.url.path, error=type(exc).__name__)
        return problem_response(problem.status, problem.title, problem.detail, problem.type, **problem.extra)
    if isinstance(exc, asyncpg.DataError):
        # Input the database refuses (a value out of range). Its message can quote the value.
        log.info(
            "request refused by the database",
            path=request.url.path,
            error=type(exc).__name__,
            sqlstate=getattr(exc, "sqlstate", None),
        )
        return problem_response(422, "Request is invalid", "a value in the request cannot be stored")
    if isinstance(exc, ConcurrencyConflict):
        # The handler's own retries kept losing the race: the client may simply try again.
        log.info("request lost a concurrency race", path=request.url.path)
        return problem_response(409, "Conflict", "the record changed while this request ran; try again")
    if isinstance(exc, CommitOutcomeUnknown):
        log.warning("commit outcome unknown", path=request.url.path)
        response = unavailable_answer(
            "the connection broke while the change was being stored: check whether it was stored"
            " before sending it again"
        )
        return response
    if isinstance(exc, UNAVAILABLE):
        # The service layer's retries are spent (or a read found no connection): as /healthz says.
        log.warning("database unavailable", path=request.url.path, error=type(exc).__name__)
        return unavailable_answer()
    if isinstance(exc, OverflowError):
        log.info("value out of range", path=request.url.path)
        return problem_response(422, "Request is invalid", "a date or number is out of the supported range")
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else None
    log.error("unexpected error", path=request.url.path, error=type(exc).__name__, where=where)
    return problem_response(500, "Internal error", "the error was logged with its correlation id")
