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
from datetime import datetime, timedelta
from typing import Annotated

import asyncpg
import structlog
from fastapi import Depends, FastAPI, Query, Request, Response
from prometheus_client import CollectorRegistry, Counter

from services.intake.adapters.catalog import CatalogAdapter
from services.intake.adapters.offices import OfficeBook
from services.intake.adapters.queries import InvalidCursor
from services.intake.bootstrap import SCHEMA, schema_from_env
from services.intake.domain.commands import (
    LookUpByIin,
    ReadApplications,
    SupplementDocuments,
    WithdrawApplication,
)
from services.intake.domain.policy import POLICY
from services.intake.domain.status import ApplicationStatus
from services.intake.entrypoints.http_models import (
    ApplicationChanged,
    ApplicationPage,
    ApplicationView,
    IinLookup,
    SupplementRequest,
    Talon,
    WithdrawRequest,
    changed_answer,
    submit_answer,
    view_of,
)
from services.intake.entrypoints.malformed import install_malformed_recorder
from services.intake.entrypoints.runtime import IntakeRuntime
from services.intake.entrypoints.summary_models import ApplicationSummary
from services.intake.service import Clock, utc_now
from services.intake.service_layer.handlers import SubmitResult
from services.intake.service_layer.views import PageRequest
from shared.auth.tokens import Principal, local_secret
from shared.contracts.applications import SubmitApplication
from shared.http.access_audit import audit_access
from shared.http.app import create_app as create_base_app
from shared.http.auth import actor_of, may, meta_of
from shared.http.openapi import documented
from shared.http.problems import Problem
from shared.logging import configure_logging
from shared.settings import PlatformSettings

log = structlog.get_logger(__name__)

DEFAULT_PORT = 8001

# Who may call each endpoint: the roles the policy table gives its command.
SUBMITTER = Depends(may(POLICY, SubmitApplication))
WITHDRAWER = Depends(may(POLICY, WithdrawApplication))
SUPPLEMENTER = Depends(may(POLICY, SupplementDocuments))
READER = Depends(may(POLICY, ReadApplications))
IIN_LOOKUP = Depends(may(POLICY, LookUpByIin))


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
        pool=pool, settings=settings, schema=schema, catalog=catalog, offices=offices,
        clock=clock, run_projector=run_projector, metrics=metrics,
    )  # fmt: skip
    submissions = Counter(
        "intake_submissions_total", "Submissions handled by the intake API", ["outcome", "channel_kind"],
        registry=metrics,
    )  # fmt: skip
    app = create_base_app(
        "Qyzmet intake", metrics=metrics, health=runtime.healthy, max_body_bytes=max_body_bytes
    )
    app.state.intake = runtime
    audit_access(app, lambda: runtime.deps)
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
        **documented(
            POLICY, SubmitApplication, "Submit an application", 409, body=True,
            extra={422: "not accepted: every missing or invalid item is listed, and the refusal recorded"},
        ),
    )  # fmt: skip
    async def submit_application(
        cmd: SubmitApplication,
        request: Request,
        principal: Principal = SUBMITTER,
    ) -> Response:
        """Submit an application; 201 with the talon, or 422 listing every missing or invalid item."""
        service = runtime.deps.service
        result: SubmitResult = await service.bus.handle(cmd, meta_of(principal, request))
        outcome = "accepted" if result.accepted else "rejected"
        if not result.replayed:
            submissions.labels(outcome, result.channel_kind).inc()
        log.info(
            "submission",
            outcome=outcome,
            replayed=result.replayed,
            application_id=result.event.application_id,
        )
        return submit_answer(result)

    @app.post(
        "/v1/applications/{application_id}/withdrawal",
        response_model=ApplicationChanged,
        tags=["applications"],
        **documented(POLICY, WithdrawApplication, "Withdraw an application", 404, 409, body=True),
    )
    async def withdraw_application(
        application_id: uuid.UUID,
        body: WithdrawRequest,
        request: Request,
        principal: Principal = WITHDRAWER,
    ) -> ApplicationChanged:
        """Withdraw a submitted application (at the applicant's request)."""
        command = WithdrawApplication(str(application_id), body.reason)
        return changed_answer(await runtime.deps.service.bus.handle(command, meta_of(principal, request)))

    @app.post(
        "/v1/applications/{application_id}/documents",
        response_model=ApplicationChanged,
        tags=["applications"],
        **documented(POLICY, SupplementDocuments, "Supplement documents", 404, 409, body=True),
    )
    async def supplement_documents(
        application_id: uuid.UUID,
        body: SupplementRequest,
        request: Request,
        principal: Principal = SUPPLEMENTER,
    ) -> ApplicationChanged:
        """Add documents to a submitted application."""
        command = SupplementDocuments(str(application_id), tuple(body.documents))
        return changed_answer(await runtime.deps.service.bus.handle(command, meta_of(principal, request)))

    @app.get(
        "/v1/applications/summary",
        response_model=ApplicationSummary,
        tags=["status"],
        **documented(POLICY, ReadApplications, "Counts, deadlines and latest decisions (no personal data)"),
    )
    async def summary(
        principal: Principal = READER,
        office: Annotated[str | None, Query(max_length=64)] = None,
        approaching_days: Annotated[int, Query(ge=0, le=90)] = 3,
        recent: Annotated[int, Query(ge=0, le=100)] = 10,
    ) -> ApplicationSummary:
        """Over the applications the caller may list: counts by service and status, per office the
        open, overdue and approaching (due within `approaching_days`) ones, decisions made in term
        per service, and the `recent` latest decisions."""
        found = await runtime.deps.service.views.summary(
            actor_of(principal), office=office, approaching=timedelta(days=approaching_days), recent=recent
        )
        return ApplicationSummary(approaching_days=approaching_days, **found)

    @app.get(
        "/v1/applications/{application_id}",
        response_model=ApplicationView,
        tags=["status"],
        **documented(POLICY, ReadApplications, "One application's status", 404),
    )
    async def get_application(application_id: uuid.UUID, principal: Principal = READER) -> ApplicationView:
        """Status, service, office, due date, overdue flag and the history of events."""
        return view_of(await runtime.deps.service.views.one(application_id, actor_of(principal)))

    @app.get(
        "/v1/applications",
        response_model=ApplicationPage,
        tags=["status"],
        **documented(POLICY, ReadApplications, "Applications visible to the caller", 400),
    )
    async def list_applications(
        principal: Principal = READER,
        office: Annotated[str | None, Query(max_length=64)] = None,
        service: Annotated[str | None, Query(max_length=80)] = None,
        status: Annotated[ApplicationStatus | None, Query()] = None,
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

    @app.post(
        "/v1/applications/lookup-by-iin",
        response_model=ApplicationPage,
        tags=["status"],
        **documented(POLICY, LookUpByIin, "Applications of one applicant (audited)", body=True),
    )
    async def lookup_by_iin(
        body: IinLookup, request: Request, principal: Principal = IIN_LOOKUP
    ) -> ApplicationPage:
        """Applications of one applicant (a personal-data read: audited). The ИИН goes in the body."""
        rows = await runtime.deps.service.bus.handle(LookUpByIin(body.iin), meta_of(principal, request))
        return ApplicationPage(items=[view_of(r) for r in rows])

    install_malformed_recorder(app, runtime)
    return app


def main() -> None:
    """`qyzmet serve intake-api`: the API on $INTAKE_API_PORT (default 8001)."""
    import os

    from shared.http.app import serve

    settings = PlatformSettings()
    configure_logging(settings.log_level)
    app = create_app(
        schema=schema_from_env(),
        settings=settings,
        run_projector=os.environ.get("INTAKE_API_PROJECTOR", "").lower() in ("1", "true", "yes"),
    )
    serve(
        app,
        os.environ.get("INTAKE_API_HOST", "127.0.0.1"),
        int(os.environ.get("INTAKE_API_PORT", str(DEFAULT_PORT))),
    )
