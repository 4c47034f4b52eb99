"""Complaints HTTP API (default port 8004): file a complaint, extend its term, answer it, record
an escalation, read one (audited), the complaints about an application, a reviewing office's
queue, and the quality-indicator figures.

Each handler authenticates (the policy table's roles), parses, builds the command and hands it
to the bus (or a view); domain refusals become problem documents (`shared.http.problems`).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated

import asyncpg
import structlog
from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry

from services.complaints.adapters.catalog import ComplaintsCatalog
from services.complaints.bootstrap import SCHEMA, schema_from_env
from services.complaints.domain.commands import (
    ExtendReview,
    ReadComplaint,
    ReadComplaints,
    ReadFigures,
    RecordEscalation,
    ResolveComplaint,
)
from services.complaints.domain.policy import POLICY
from services.complaints.entrypoints.http_models import (
    ComplaintChanged,
    ComplaintList,
    ComplaintView,
    EscalationRequest,
    ExtensionRequest,
    Figures,
    ResolutionRequest,
    Talon,
    summary_of,
    talon_of,
)
from services.complaints.entrypoints.runtime import ComplaintsRuntime
from services.complaints.service import Clock, utc_now
from services.complaints.service_layer.handlers import Changed, Registered
from services.complaints.service_layer.views import ALL_OFFICES, parse_period
from shared.auth.tokens import Principal, local_secret
from shared.contracts.complaints import FileComplaint
from shared.http.access_audit import audit_access
from shared.http.app import create_app as create_base_app
from shared.http.auth import actor_of, may, meta_of
from shared.http.openapi import documented
from shared.logging import configure_logging
from shared.settings import PlatformSettings

log = structlog.get_logger(__name__)

DEFAULT_PORT = 8004

FILER = Depends(may(POLICY, FileComplaint))
EXTENDER = Depends(may(POLICY, ExtendReview))
RESOLVER = Depends(may(POLICY, ResolveComplaint))
ESCALATOR = Depends(may(POLICY, RecordEscalation))
READER = Depends(may(POLICY, ReadComplaints))
ONE_READER = Depends(may(POLICY, ReadComplaint))
FIGURES = Depends(may(POLICY, ReadFigures))


def _changed(result: Changed) -> ComplaintChanged:
    resolved = result.state.resolved
    return ComplaintChanged(
        complaint_id=result.state.complaint.complaint_id,
        events=[e.event_name for e in result.events],
        review_due_on=result.state.due_on,
        outcome=resolved.outcome if resolved else None,
        reopen_case=resolved.reopen_case if resolved else None,
        reopen_withheld=resolved.reopen_withheld if resolved else None,
    )


def create_app(
    pool: asyncpg.Pool | None = None,
    *,
    schema: str = SCHEMA,
    settings: PlatformSettings | None = None,
    catalog: ComplaintsCatalog | None = None,
    clock: Clock = utc_now,
    token_secret: str | None = None,
) -> FastAPI:
    """The complaints API. Give `pool` (tests) or let the lifespan connect to `settings.database_url`.
    With an ASGI transport that sends no lifespan events, call `await app.state.complaints.start()`."""
    settings = settings or PlatformSettings()
    metrics = CollectorRegistry()
    secret = token_secret or settings.token_secret or local_secret(settings.data_dir)
    runtime = ComplaintsRuntime(pool=pool, settings=settings, schema=schema, catalog=catalog, clock=clock)
    app = create_base_app("Qyzmet complaints", metrics=metrics, health=runtime.healthy)
    app.state.complaints = runtime
    audit_access(app, lambda: runtime.service)
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
        "/v1/complaints", status_code=201, response_model=Talon, tags=["complaints"],
        **documented(
            POLICY, FileComplaint, "File a complaint", 409, body=True,
            extra={422: "not registered: the application is unknown or undecided, a field is missing,"
                   " or the contested act gives no complaint procedure (each reason named)"},
        ),
    )  # fmt: skip
    async def file_complaint(cmd: FileComplaint, request: Request, principal: Principal = FILER) -> Response:
        """Register a complaint; 201 with the talon (200 with the same talon for a repeated key and body)."""
        result: Registered = await runtime.service.bus.handle(cmd, meta_of(principal, request))
        log.info("complaint", replayed=result.replayed, complaint_id=result.event.complaint_id)
        return JSONResponse(
            talon_of(result.event).model_dump(mode="json"),
            status_code=200 if result.replayed else 201,
            headers={
                "Idempotent-Replayed": "true" if result.replayed else "false",
                "Location": f"/v1/complaints/{result.event.complaint_id}",
            },
        )

    @app.get(
        "/v1/complaints/queue", response_model=ComplaintList, tags=["review"],
        **documented(POLICY, ReadComplaints, "A reviewing office's queue, nearest due first"),
    )  # fmt: skip
    async def queue(
        principal: Principal = READER,
        office: Annotated[str | None, Query(max_length=64)] = None,
        include_resolved: bool = False,
        every_office: bool = False,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> ComplaintList:
        """Complaints routed to `office` (default: the caller's), open ones unless `include_resolved`;
        `every_office=true` (auditors, administrators): the queues of every reviewing office."""
        reviewing = ALL_OFFICES if every_office else office
        rows = await runtime.service.views.queue(reviewing, actor_of(principal), include_resolved, limit)
        return ComplaintList(items=[summary_of(r) for r in rows])

    @app.get(
        "/v1/complaints/figures", response_model=Figures, response_model_by_alias=True, tags=["figures"],
        **documented(POLICY, ReadFigures, "Quality-indicator figures of complaints"),
    )  # fmt: skip
    async def figures(
        principal: Principal = FIGURES,
        start: Annotated[date | None, Query(alias="from")] = None,
        end: Annotated[date | None, Query(alias="to")] = None,
        service: Annotated[str | None, Query(max_length=80)] = None,
        office: Annotated[str | None, Query(max_length=64)] = None,
    ) -> Figures:
        """Justified complaints as a share of applicants served and justified complaints answered in
        term, over [from, to] (whole local days of each region), per service and office (an office's
        head: its own)."""
        first, last = parse_period(start, end)
        found = await runtime.service.views.figures(
            ReadFigures(first, last, service, office), actor_of(principal)
        )
        return Figures.model_validate(found)

    @app.get(
        "/v1/complaints", response_model=ComplaintList, tags=["complaints"],
        **documented(POLICY, ReadComplaints, "The complaints about an application"),
    )  # fmt: skip
    async def by_application(
        application: Annotated[str, Query(min_length=1, max_length=64)], principal: Principal = READER
    ) -> ComplaintList:
        """The complaints about one application that the caller's office may see (no personal data)."""
        rows = await runtime.service.views.by_application(application, actor_of(principal))
        return ComplaintList(items=[summary_of(r) for r in rows])

    @app.get(
        "/v1/complaints/{complaint_id}", response_model=ComplaintView, tags=["complaints"],
        **documented(POLICY, ReadComplaint, "One complaint with the complainant (audited)", 404),
    )  # fmt: skip
    async def get_complaint(
        complaint_id: uuid.UUID, request: Request, principal: Principal = ONE_READER
    ) -> ComplaintView:
        """One complaint with the complainant's data: the read is recorded in the audit log."""
        row = await runtime.service.bus.handle(ReadComplaint(str(complaint_id)), meta_of(principal, request))
        return ComplaintView.model_validate(row)

    @app.post(
        "/v1/complaints/{complaint_id}/extension", response_model=ComplaintChanged, tags=["review"],
        **documented(POLICY, ExtendReview, "Extend the review term (once, with notice)", 404, 409, body=True),
    )  # fmt: skip
    async def extend(
        complaint_id: uuid.UUID, body: ExtensionRequest, request: Request, principal: Principal = EXTENDER
    ) -> ComplaintChanged:
        """Extend the term once, before it runs out; the complainant is notified from the event."""
        command = ExtendReview(str(complaint_id), body.reason)
        return _changed(await runtime.service.bus.handle(command, meta_of(principal, request)))

    @app.post(
        "/v1/complaints/{complaint_id}/resolution", response_model=ComplaintChanged, tags=["review"],
        **documented(POLICY, ResolveComplaint, "Answer the complaint", 404, 409, body=True),
    )  # fmt: skip
    async def resolve(
        complaint_id: uuid.UUID, body: ResolutionRequest, request: Request, principal: Principal = RESOLVER
    ) -> ComplaintChanged:
        """Upheld, partly upheld or rejected, with the reasoning; an upheld complaint against a
        decision reopens the case (`ComplaintResolved.reopen_case`)."""
        command = ResolveComplaint(str(complaint_id), body.outcome, body.reasoning)
        return _changed(await runtime.service.bus.handle(command, meta_of(principal, request)))

    @app.post(
        "/v1/complaints/{complaint_id}/escalations", response_model=ComplaintChanged, tags=["review"],
        **documented(POLICY, RecordEscalation, "Record an escalation (higher body, court)", 404, body=True),
    )  # fmt: skip
    async def escalate(
        complaint_id: uuid.UUID, body: EscalationRequest, request: Request, principal: Principal = ESCALATOR
    ) -> ComplaintChanged:
        """Record that the complaint went on to a higher body or to court."""
        command = RecordEscalation(str(complaint_id), body.to, body.body, body.note)
        return _changed(await runtime.service.bus.handle(command, meta_of(principal, request)))

    return app


def main() -> None:
    """`qyzmet serve complaints-api`: the API on $COMPLAINTS_API_PORT (default 8004)."""
    import os

    from shared.http.app import serve

    settings = PlatformSettings()
    configure_logging(settings.log_level)
    serve(
        create_app(schema=schema_from_env(), settings=settings),
        os.environ.get("COMPLAINTS_API_HOST", "127.0.0.1"),
        int(os.environ.get("COMPLAINTS_API_PORT", str(DEFAULT_PORT))),
    )
