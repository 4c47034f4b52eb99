"""Intake HTTP API (default port 8001): submit, withdraw, supplement, status, lists, ИИН lookup.

Each handler authenticates (the policy table's roles), parses, builds the command and hands it
to the bus; domain refusals become problem documents (`shared.http.problems`). Reads come from
the status projection, which the projector builds (in the worker, or in this process when
`run_projector=True`).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Literal

import asyncpg
import structlog
from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter

from services.intake.adapters.catalog import CatalogAdapter
from services.intake.adapters.offices import OfficeBook
from services.intake.adapters.queries import InvalidCursor
from services.intake.bootstrap import SCHEMA, schema_from_env
from services.intake.domain.commands import (
    LookUpByIin,
    ReadApplications,
    RecordMalformedSubmission,
    SupplementDocuments,
    WithdrawApplication,
)
from services.intake.domain.policy import POLICY
from services.intake.entrypoints.http_models import (
    ApplicationChanged,
    ApplicationPage,
    ApplicationView,
    IinLookup,
    SupplementRequest,
    Talon,
    WithdrawRequest,
    talon_of,
    view_of,
)
from services.intake.entrypoints.runtime import IntakeRuntime
from services.intake.service import Clock, utc_now
from services.intake.service_layer.handlers import Changed, SubmitResult
from services.intake.service_layer.views import PageRequest
from shared.auth.tokens import InvalidToken, Principal, local_secret, verify_token
from shared.contracts.applications import ApplicationSubmitted, IntakeProblem, SubmitApplication
from shared.http.app import create_app as create_base_app
from shared.http.auth import actor_of, may
from shared.http.correlation import correlation_id
from shared.http.problems import (
    Problem,
    problem_response,
    problem_type,
    validation_errors,
    validation_problem,
)
from shared.logging import configure_logging
from shared.service_layer import Meta
from shared.settings import PlatformSettings

log = structlog.get_logger(__name__)

DEFAULT_PORT = 8001
REJECTED_TYPE = problem_type("intake-rejected")

# Who may call each endpoint: the roles the policy table gives its command.
SUBMITTER = Depends(may(POLICY, SubmitApplication))
WITHDRAWER = Depends(may(POLICY, WithdrawApplication))
SUPPLEMENTER = Depends(may(POLICY, SupplementDocuments))
READER = Depends(may(POLICY, ReadApplications))
IIN_LOOKUP = Depends(may(POLICY, LookUpByIin))


def _meta(principal: Principal, request: Request) -> Meta:
    return Meta(actor_of(principal), correlation_id(request))


def _submit_response(result: SubmitResult, names: tuple[str | None, str | None]) -> Response:
    headers = {"Idempotent-Replayed": "true" if result.replayed else "false"}
    event = result.event
    if isinstance(event, ApplicationSubmitted):
        headers["Location"] = f"/v1/applications/{event.application_id}"
        return JSONResponse(talon_of(event, names).model_dump(mode="json"), status_code=201, headers=headers)
    errors = [
        {"field": p.field, "reason": p.message, "code": p.code, "document_id": p.document_id,
         "name_kk": p.name_kk, "name_en": p.name_en}
        for p in event.problems
    ]  # fmt: skip
    response = problem_response(
        422,
        "Application not accepted",
        f"{len(errors)} item(s) missing or invalid; the refusal is recorded",
        type_=REJECTED_TYPE,
        application_id=event.application_id,
        errors=errors,
    )
    response.headers.update(headers)
    return response


def _changed(result: Changed) -> ApplicationChanged:
    assert result.state.application_id is not None
    return ApplicationChanged(
        application_id=result.state.application_id,
        status=result.state.status.value,
        version=result.state.version,
        events=[e.event_name for e in result.events],
    )


def create_app(
    pool: asyncpg.Pool | None = None,
    *,
    schema: str = SCHEMA,
    settings: PlatformSettings | None = None,
    catalog: CatalogAdapter | None = None,
    offices: OfficeBook | None = None,
    clock: Clock = utc_now,
    run_projector: bool = False,
    token_secret: str | None = None,
    max_body_bytes: int = 1024 * 1024,
) -> FastAPI:
    """The intake API. Give `pool` (tests) or let the lifespan connect to `settings.database_url`.

    With an ASGI transport that sends no lifespan events, call `await app.state.intake.start()`.
    """
    settings = settings or PlatformSettings()
    metrics = CollectorRegistry()
    secret = token_secret or settings.token_secret or local_secret(settings.data_dir)
    runtime = IntakeRuntime(
        pool=pool, database_url=settings.database_url, schema=schema, catalog=catalog, offices=offices,
        clock=clock, run_projector=run_projector, pseudonym_key=secret, metrics=metrics,
    )  # fmt: skip
    submissions = Counter(
        "intake_submissions_total", "Submissions handled by the intake API", ["outcome", "channel_kind"],
        registry=metrics,
    )  # fmt: skip
    app = create_base_app(
        "Qyzmet intake", metrics=metrics, health=runtime.healthy, max_body_bytes=max_body_bytes
    )
    app.state.intake = runtime
    app.state.token_secret = secret
    app.state.token_issuer = settings.token_issuer

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app.router.lifespan_context = lifespan

    @app.post(
        "/v1/applications",
        status_code=201,
        response_model=Talon,
        tags=["applications"],
        responses={409: {"description": "idempotency key reused"}, 422: {"description": "not accepted"}},
    )
    async def submit_application(
        cmd: SubmitApplication,
        request: Request,
        principal: Principal = SUBMITTER,
    ) -> Response:
        """Submit an application; 201 with the talon, or 422 listing every missing or invalid item."""
        service = runtime.deps.service
        result: SubmitResult = await service.bus.handle(cmd, _meta(principal, request))
        outcome = "accepted" if result.accepted else "rejected"
        if not result.replayed:
            submissions.labels(outcome, service.channel_label(cmd.channel)).inc()
        log.info(
            "submission",
            outcome=outcome,
            replayed=result.replayed,
            application_id=result.event.application_id,
        )
        return _submit_response(result, service.service_names(result.event.service_id))

    @app.post(
        "/v1/applications/{application_id}/withdrawal",
        response_model=ApplicationChanged,
        tags=["applications"],
    )
    async def withdraw_application(
        application_id: uuid.UUID,
        body: WithdrawRequest,
        request: Request,
        principal: Principal = WITHDRAWER,
    ) -> ApplicationChanged:
        """Withdraw a submitted application (at the applicant's request)."""
        command = WithdrawApplication(str(application_id), body.reason)
        return _changed(await runtime.deps.service.bus.handle(command, _meta(principal, request)))

    @app.post(
        "/v1/applications/{application_id}/documents",
        response_model=ApplicationChanged,
        tags=["applications"],
    )
    async def supplement_documents(
        application_id: uuid.UUID,
        body: SupplementRequest,
        request: Request,
        principal: Principal = SUPPLEMENTER,
    ) -> ApplicationChanged:
        """Add documents to a submitted application."""
        command = SupplementDocuments(str(application_id), tuple(body.documents))
        return _changed(await runtime.deps.service.bus.handle(command, _meta(principal, request)))

    @app.get("/v1/applications/{application_id}", response_model=ApplicationView, tags=["status"])
    async def get_application(application_id: uuid.UUID, principal: Principal = READER) -> ApplicationView:
        """Status, service, office, due date, overdue flag and the history of events."""
        return view_of(await runtime.deps.service.views.one(application_id, actor_of(principal)))

    @app.get("/v1/applications", response_model=ApplicationPage, tags=["status"])
    async def list_applications(
        principal: Principal = READER,
        office: Annotated[str | None, Query(max_length=64)] = None,
        service: Annotated[str | None, Query(max_length=80)] = None,
        status: Annotated[Literal["submitted", "rejected", "withdrawn"] | None, Query()] = None,
        overdue: bool | None = None,
        submitted_from: datetime | None = None,
        submitted_to: datetime | None = None,
        cursor: Annotated[str | None, Query(max_length=200)] = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> ApplicationPage:
        """Applications visible to the caller, newest first, with cursor pagination."""
        page = PageRequest(office, service, status, overdue, submitted_from, submitted_to, cursor, limit)
        try:
            rows, next_cursor = await runtime.deps.service.views.page(page, actor_of(principal))
        except InvalidCursor as exc:
            raise Problem(400, "Bad cursor", str(exc)) from exc
        return ApplicationPage(items=[view_of(r) for r in rows], next_cursor=next_cursor)

    @app.post("/v1/applications/lookup-by-iin", response_model=ApplicationPage, tags=["status"])
    async def lookup_by_iin(
        body: IinLookup, request: Request, principal: Principal = IIN_LOOKUP
    ) -> ApplicationPage:
        """Applications of one applicant (a personal-data read: audited). The ИИН goes in the body."""
        rows = await runtime.deps.service.bus.handle(LookUpByIin(body.iin), _meta(principal, request))
        return ApplicationPage(items=[view_of(r) for r in rows])

    @app.exception_handler(RequestValidationError)
    async def _malformed(request: Request, exc: RequestValidationError) -> Response:
        """A submission whose fields are missing or malformed is still a refused submission of
        an identified officer: recorded as `ApplicationRejectedAtIntake` (quality indicators)."""
        if request.method != "POST" or request.url.path != "/v1/applications":
            return validation_problem(exc)
        principal = _submitter(request)
        body = exc.body if isinstance(exc.body, dict) else None
        if principal is None or body is None or body.get("office_id") != principal.office:
            return validation_problem(exc)
        errors = validation_errors(exc)

        def text(name: str) -> str:
            value = body.get(name)
            return value if isinstance(value, str) else ""

        command = RecordMalformedSubmission(
            office_id=principal.office,
            service_id=text("service_id"),
            channel=text("channel"),
            idempotency_key=text("idempotency_key"),
            problems=tuple(
                IntakeProblem(code="invalid_field", field=e["field"], message=e["reason"]) for e in errors
            ),
        )
        recorded = await runtime.deps.service.bus.handle(command, _meta(principal, request))
        return problem_response(
            422,
            "Request is invalid",
            f"{len(errors)} field(s) failed validation; recorded as a refused submission",
            errors=errors,
            application_id=recorded.application_id,
        )

    def _submitter(request: Request) -> Principal | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            principal = verify_token(app.state.token_secret, token, issuer=app.state.token_issuer)
        except InvalidToken:
            return None
        return principal if principal.role.value in POLICY.roles(RecordMalformedSubmission) else None

    return app


def main() -> None:
    """`qyzmet serve intake-api`: the API on $INTAKE_API_PORT (default 8001)."""
    import os

    import uvicorn

    settings = PlatformSettings()
    configure_logging(settings.log_level)
    app = create_app(
        schema=schema_from_env(),
        settings=settings,
        run_projector=os.environ.get("INTAKE_API_PROJECTOR", "").lower() in ("1", "true", "yes"),
    )
    uvicorn.run(
        app,
        host=os.environ.get("INTAKE_API_HOST", "127.0.0.1"),
        port=int(os.environ.get("INTAKE_API_PORT", str(DEFAULT_PORT))),
        log_config=None,
        access_log=False,
    )
