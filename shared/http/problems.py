"""RFC 9457 problem details for every error a service returns."""

from __future__ import annotations

from typing import Any

import asyncpg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    InvalidState,
    NotFound,
)
from shared.eventstore.errors import ConcurrencyConflict

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
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
        type_: str = "about:blank",
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


def problem_response(
    status: int, title: str, detail: str | None = None, type_: str = "about:blank", **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


def validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    """Each failed field of a request: its dotted path and the reason (never the value)."""
    return [
        {"field": _field_path(err.get("loc", ())), "reason": str(err.get("msg", "invalid"))}
        for err in exc.errors()
    ]


def validation_problem(exc: RequestValidationError) -> JSONResponse:
    errors = validation_errors(exc)
    return problem_response(
        422, "Request is invalid", f"{len(errors)} field(s) failed validation", errors=errors
    )


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        response = problem_response(exc.status, exc.title, exc.detail, exc.type, **exc.extra)
        response.headers.update(exc.headers)
        return response

    @app.exception_handler(DomainError)
    async def _refused(request: Request, exc: DomainError) -> JSONResponse:
        problem = domain_problem(exc)
        if problem.status >= 500:
            log.error("unhandled domain error", path=request.url.path, error=type(exc).__name__)
        return problem_response(problem.status, problem.title, problem.detail, problem.type, **problem.extra)

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

    @app.exception_handler(asyncpg.DataError)
    async def _unstorable(request: Request, exc: asyncpg.DataError) -> JSONResponse:
        # Input the database refuses (a NUL character, a value out of range). Its message can
        # quote the value (an ИИН, a name), so neither the answer nor the log repeats it.
        log.info(
            "request refused by the database",
            path=request.url.path,
            error=type(exc).__name__,
            sqlstate=getattr(exc, "sqlstate", None),
        )
        return problem_response(422, "Request is invalid", "a value in the request cannot be stored")

    @app.exception_handler(ConcurrencyConflict)
    async def _busy(request: Request, exc: ConcurrencyConflict) -> JSONResponse:
        # The handler's own retries kept losing the race: the client may simply try again.
        log.info("request lost a concurrency race", path=request.url.path)
        return problem_response(409, "Conflict", "the record changed while this request ran; try again")

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> JSONResponse:
        log.info("value out of range", path=request.url.path)
        return problem_response(422, "Request is invalid", "a date or number is out of the supported range")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The type and place only: an exception's message may carry personal data.
        log.error("unexpected error", path=request.url.path, error=type(exc).__name__)
        return problem_response(500, "Internal error", "the error was logged with its correlation id")
