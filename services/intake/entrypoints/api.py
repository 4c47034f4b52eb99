"""Intake HTTP API (default port 8001): submit, withdraw, supplement, status, lists, ИИН lookup.

Handlers write events, the idempotency key and the audit record in one transaction and never
touch the status projection; reads come from the projection, which the projector builds (in the
worker, or in this process when `run_projector=True`).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

import asyncpg
import structlog
from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter, Gauge
from pydantic import BaseModel, Field

from services.intake.adapters.catalog import CatalogAdapter
from services.intake.adapters.offices import OfficeBook
from services.intake.adapters.queries import InvalidCursor, ListFilter
from services.intake.bootstrap import SCHEMA, IntakeDeps, build, migrate, schema_from_env
from services.intake.domain.application import ApplicationState, CommandRefused, Status
from services.intake.domain.identity import iin_problem
from services.intake.service import Actor, Clock, IdempotencyConflict, SubmitResult, utc_now
from shared.audit.pseudonyms import pseudonym
from shared.auth.roles import CROSS_OFFICE_ROLES, Role
from shared.auth.tokens import InvalidToken, Principal, local_secret, verify_token
from shared.contracts.applications import (
    ApplicationSubmitted,
    IntakeProblem,
    PresentedDocument,
    ReceivedDocument,
    SubmitApplication,
)
from shared.contracts.event import ContractModel
from shared.db.pool import create_pool
from shared.eventstore import ConcurrencyConflict
from shared.http.app import create_app as create_base_app
from shared.http.auth import require_roles
from shared.http.problems import Problem, problem_response, validation_errors, validation_problem
from shared.logging import bind_correlation, configure_logging
from shared.settings import PlatformSettings

log = structlog.get_logger(__name__)

DEFAULT_PORT = 8001
SUBMIT_ROLES = (Role.CLERK, Role.SPECIALIST, Role.TSON)
CHANGE_ROLES = (Role.CLERK, Role.SPECIALIST, Role.HEAD, Role.TSON)
READ_ROLES = (Role.CLERK, Role.SPECIALIST, Role.HEAD, Role.TSON, Role.INSPECTOR, Role.AUDITOR, Role.ADMIN)
IIN_LOOKUP_ROLES = (Role.CLERK, Role.SPECIALIST, Role.HEAD, Role.TSON, Role.AUDITOR)
REJECTED_TYPE = "https://qyzmet.kz/problems/intake-rejected"

T = TypeVar("T")

_may_submit = require_roles(*SUBMIT_ROLES)
_may_change = require_roles(*CHANGE_ROLES)
_may_read = require_roles(*READ_ROLES)
_may_lookup_iin = require_roles(*IIN_LOOKUP_ROLES)


# ----------------------------------------------------------------------------- HTTP models


class Talon(BaseModel):
    """The receipt (талон) of an accepted application."""

    application_id: str
    registration_number: str
    status: Literal["submitted"] = "submitted"
    service_id: str
    service_name_kk: str | None = None
    service_name_en: str | None = None
    edition_id: str
    channel: str
    office_id: str
    received_by: str
    received_at: datetime
    due_at: datetime | None
    due_note: str | None = None
    documents: list[ReceivedDocument]
    undetermined_documents: list[str] = Field(default_factory=list)


class WithdrawRequest(ContractModel):
    reason: str | None = Field(default=None, max_length=1000)


class SupplementRequest(ContractModel):
    documents: list[PresentedDocument] = Field(min_length=1, max_length=100)


class IinLookup(ContractModel):
    iin: str = Field(min_length=12, max_length=12, pattern=r"^\d{12}$")


class ApplicationChanged(BaseModel):
    application_id: str
    status: str
    version: int
    events: list[str]


class HistoryItem(BaseModel):
    version: int
    event_type: str
    recorded_at: datetime
    actor: str | None = None


class ApplicationView(BaseModel):
    application_id: str
    registration_number: str | None
    status: str
    service_id: str
    subtype: str | None = None
    edition_id: str | None = None
    channel: str
    office_id: str
    region: str | None = None
    received_by: str
    submitted_at: datetime
    due_at: datetime | None
    overdue: bool
    documents: list[str]
    problems: list[dict[str, Any]] = Field(default_factory=list)
    updated_at: datetime
    history: list[HistoryItem] | None = None


class ApplicationPage(BaseModel):
    items: list[ApplicationView]
    next_cursor: str | None = None


def _view(row: dict[str, Any]) -> ApplicationView:
    return ApplicationView(**{**row, "application_id": str(row["application_id"])})


# ----------------------------------------------------------------------------- runtime


class IntakeRuntime:
    """What the app needs at run time; `start`/`stop` run from the lifespan (or a test)."""

    def __init__(
        self,
        *,
        pool: asyncpg.Pool | None,
        database_url: str | None,
        schema: str,
        catalog: CatalogAdapter | None,
        offices: OfficeBook | None,
        clock: Clock,
        run_projector: bool,
        metrics: CollectorRegistry,
    ) -> None:
        self._pool = pool
        self._owns_pool = pool is None
        self._database_url = database_url
        self.schema = schema
        self._catalog = catalog
        self._offices = offices
        self._clock = clock
        self.run_projector = run_projector
        self._deps: IntakeDeps | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.lag_gauge = Gauge(
            "intake_projection_lag_events",
            "Events in the intake event store not yet applied to the status projection",
            registry=metrics,
        )
        self.submissions = Counter(
            "intake_submissions_total",
            "Submissions handled by the intake API",
            ["outcome", "channel_kind"],
            registry=metrics,
        )

    @property
    def deps(self) -> IntakeDeps:
        if self._deps is None:
            raise Problem(503, "Service unavailable", "the intake service is starting")
        return self._deps

    async def start(self) -> None:
        if self._deps is not None:
            return
        if self._pool is None:
            if not self._database_url:
                raise RuntimeError("DATABASE_URL is not set")
            self._pool = await create_pool(self._database_url, min_size=2, max_size=20)
        await migrate(self._pool, self.schema)
        self._deps = build(
            self._pool, self.schema, catalog=self._catalog, offices=self._offices, clock=self._clock
        )
        self._stop.clear()
        self._tasks.append(asyncio.create_task(self._report_lag()))
        if self.run_projector:
            self._tasks.append(asyncio.create_task(self._deps.projector.run(self._stop)))

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 5)
        self._tasks.clear()
        if self._owns_pool and self._pool is not None:
            await self._pool.close()
            self._pool = None
        self._deps = None

    async def _report_lag(self) -> None:
        while not self._stop.is_set():
            if self._deps is not None:
                try:
                    self.lag_gauge.set(await self._deps.projector.lag())
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    log.warning("projection lag unavailable", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), 1.0)

    async def healthy(self) -> bool:
        if self._deps is None:
            return False
        try:
            async with self._deps.pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False
        return True

    async def in_transaction(
        self, work: Callable[[asyncpg.Connection], Awaitable[T]], attempts: int = 5
    ) -> T:
        """Run `work` in a transaction, retrying optimistic-concurrency and serialization conflicts."""
        deps = self.deps
        for attempt in range(attempts):
            try:
                async with deps.pool.acquire() as conn, conn.transaction():
                    return await work(conn)
            except (ConcurrencyConflict, asyncpg.SerializationError, asyncpg.DeadlockDetectedError):
                if attempt == attempts - 1:
                    raise
                await asyncio.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover


def _runtime(request: Request) -> IntakeRuntime:
    runtime: IntakeRuntime = request.app.state.intake
    return runtime


def _actor(principal: Principal) -> Actor:
    return Actor(subject=principal.subject, role=principal.role.value, office=principal.office)


def _correlation(request: Request) -> str:
    """The request's correlation id (the caller's X-Correlation-Id, else a new one), once per request."""
    known: str | None = getattr(request.state, "correlation_id", None)
    if known is not None:
        return known
    value = request.headers.get("x-correlation-id", "")
    correlation = value if 0 < len(value) <= 128 and value.isprintable() else str(uuid.uuid4())
    request.state.correlation_id = correlation
    bind_correlation(correlation)
    return correlation


def _office_scope(principal: Principal) -> list[str] | None:
    return None if principal.role in CROSS_OFFICE_ROLES else [principal.office]


def _own_submissions_only(principal: Principal) -> str | None:
    """A ЦОН operator sees and changes only what it submitted itself: its subject, else None."""
    return principal.subject if principal.role is Role.TSON else None


def _may_see(principal: Principal, office_id: str, received_by: str | None) -> bool:
    own = _own_submissions_only(principal)
    return principal.may_see_office(office_id) and (own is None or received_by == own)


def _talon(event: ApplicationSubmitted, deps: IntakeDeps) -> Talon:
    names: dict[str, str | None] = {"service_name_kk": None, "service_name_en": None}
    with contextlib.suppress(Exception):
        service = deps.catalog.service(event.service_id)
        names = {"service_name_kk": service.name_kk, "service_name_en": service.name_en}
    return Talon(
        application_id=event.application_id,
        registration_number=event.registration_number,
        service_id=event.service_id,
        edition_id=event.edition_id,
        channel=event.channel,
        office_id=event.office_id,
        received_by=event.received_by,
        received_at=event.received_at,
        due_at=event.due_at,
        due_note=event.due_note,
        documents=event.documents,
        undetermined_documents=event.undetermined_documents,
        **names,
    )


def _submit_response(result: SubmitResult, deps: IntakeDeps) -> Response:
    headers = {"Idempotent-Replayed": "true" if result.replayed else "false"}
    event = result.event
    if isinstance(event, ApplicationSubmitted):
        headers["Location"] = f"/v1/applications/{event.application_id}"
        return JSONResponse(_talon(event, deps).model_dump(mode="json"), status_code=201, headers=headers)
    errors = [
        {
            "field": p.field,
            "reason": p.message,
            "code": p.code,
            "document_id": p.document_id,
            "name_kk": p.name_kk,
            "name_en": p.name_en,
        }
        for p in event.problems
    ]
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


def _refused(exc: CommandRefused) -> Problem:
    errors = [
        {"field": p.field, "reason": p.message, "code": p.code, "document_id": p.document_id}
        for p in exc.problems
    ]
    if errors:
        return Problem(exc.status, exc.title, exc.detail, errors=errors)
    return Problem(exc.status, exc.title, exc.detail)


# ----------------------------------------------------------------------------- app


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
    runtime = IntakeRuntime(
        pool=pool,
        database_url=settings.database_url,
        schema=schema,
        catalog=catalog,
        offices=offices,
        clock=clock,
        run_projector=run_projector,
        metrics=metrics,
    )
    app = create_base_app(
        "Qyzmet intake", metrics=metrics, health=runtime.healthy, max_body_bytes=max_body_bytes
    )
    app.state.intake = runtime
    app.state.token_secret = token_secret or settings.token_secret or local_secret(settings.data_dir)
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
        principal: Principal = Depends(_may_submit),
    ) -> Response:
        """Submit an application; 201 with the talon, or 422 listing every missing or invalid item."""
        if cmd.office_id != principal.office:
            raise Problem(
                403, "Forbidden", f"office {principal.office!r} may not submit for office {cmd.office_id!r}"
            )
        correlation = _correlation(request)
        deps = runtime.deps
        actor = _actor(principal)
        try:
            result = await runtime.in_transaction(
                lambda conn: deps.service.submit(conn, cmd, actor, correlation_id=correlation)
            )
        except IdempotencyConflict as exc:
            raise Problem(
                409,
                "Idempotency key reused",
                "this key was used with a different request body; a new application needs a new key",
                application_id=exc.application_id,
            ) from exc
        if not result.replayed:
            known = runtime.deps.catalog.channel_known(cmd.channel)
            channel = cmd.channel if known else "unknown"  # never a label made up by a client
            runtime.submissions.labels("accepted" if result.accepted else "rejected", channel).inc()
        log.info(
            "submission",
            outcome="accepted" if result.accepted else "rejected",
            replayed=result.replayed,
            application_id=result.event.application_id,
        )
        return _submit_response(result, deps)

    async def _change(
        request: Request,
        application_id: uuid.UUID,
        principal: Principal,
        act: Callable[[asyncpg.Connection, ApplicationState], Awaitable[list[Any]]],
    ) -> ApplicationChanged:
        correlation = _correlation(request)
        deps = runtime.deps

        async def work(conn: asyncpg.Connection) -> ApplicationChanged:
            state = await deps.service.load(conn, str(application_id))
            if state.status is Status.NONE or state.office_id is None:
                raise Problem(404, "Not found", "no such application")
            if not _may_see(principal, state.office_id, state.received_by):
                raise Problem(403, "Forbidden", "the application belongs to another office or operator")
            events = await act(conn, state)
            status = (
                Status.WITHDRAWN
                if any(e.event_name == "application.withdrawn" for e in events)
                else state.status
            )
            return ApplicationChanged(
                application_id=str(application_id),
                status=status.value,
                version=state.version + len(events),
                events=[e.event_name for e in events],
            )

        bind_correlation(correlation)
        try:
            return await runtime.in_transaction(work)
        except CommandRefused as exc:
            raise _refused(exc) from exc

    @app.post(
        "/v1/applications/{application_id}/withdrawal",
        response_model=ApplicationChanged,
        tags=["applications"],
    )
    async def withdraw_application(
        application_id: uuid.UUID,
        body: WithdrawRequest,
        request: Request,
        principal: Principal = Depends(_may_change),
    ) -> ApplicationChanged:
        """Withdraw a submitted application (at the applicant's request)."""
        deps = runtime.deps
        correlation = _correlation(request)
        return await _change(
            request,
            application_id,
            principal,
            lambda conn, state: deps.service.withdraw(
                conn, state, _actor(principal), reason=body.reason, correlation_id=correlation
            ),
        )

    @app.post(
        "/v1/applications/{application_id}/documents",
        response_model=ApplicationChanged,
        tags=["applications"],
    )
    async def supplement_documents(
        application_id: uuid.UUID,
        body: SupplementRequest,
        request: Request,
        principal: Principal = Depends(_may_submit),
    ) -> ApplicationChanged:
        """Add documents to a submitted application."""
        deps = runtime.deps
        correlation = _correlation(request)
        return await _change(
            request,
            application_id,
            principal,
            lambda conn, state: deps.service.supplement(
                conn, state, body.documents, _actor(principal), correlation_id=correlation
            ),
        )

    @app.get("/v1/applications/{application_id}", response_model=ApplicationView, tags=["status"])
    async def get_application(
        application_id: uuid.UUID,
        principal: Principal = Depends(_may_read),
    ) -> ApplicationView:
        """Status, service, office, due date, overdue flag and the history of events."""
        deps = runtime.deps
        async with deps.pool.acquire() as conn:
            row = await deps.queries.get(conn, application_id)
        if row is None:
            raise Problem(404, "Not found", "no such application (a new one appears within seconds)")
        if not _may_see(principal, row["office_id"], row["received_by"]):
            raise Problem(403, "Forbidden", "the application belongs to another office or operator")
        return _view(row)

    @app.get("/v1/applications", response_model=ApplicationPage, tags=["status"])
    async def list_applications(
        principal: Principal = Depends(_may_read),
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
        scope = _office_scope(principal)
        if office is not None:
            if not principal.may_see_office(office):
                raise Problem(403, "Forbidden", f"office {principal.office!r} may not list office {office!r}")
            scope = [office]
        for name, value in (("submitted_from", submitted_from), ("submitted_to", submitted_to)):
            if value is not None and value.tzinfo is None:
                raise Problem(
                    422, "Request is invalid", f"{name} needs a time zone (e.g. 2025-01-01T00:00:00Z)"
                )
        deps = runtime.deps
        where = ListFilter(
            offices=scope,
            received_by=_own_submissions_only(principal),
            service=service,
            status=status,
            overdue=overdue,
            submitted_from=submitted_from,
            submitted_to=submitted_to,
        )
        try:
            async with deps.pool.acquire() as conn:
                rows, next_cursor = await deps.queries.page(conn, where, cursor, limit)
        except InvalidCursor as exc:
            raise Problem(400, "Bad cursor", str(exc)) from exc
        return ApplicationPage(items=[_view(r) for r in rows], next_cursor=next_cursor)

    @app.post("/v1/applications/lookup-by-iin", response_model=ApplicationPage, tags=["status"])
    async def lookup_by_iin(
        body: IinLookup,
        request: Request,
        principal: Principal = Depends(_may_lookup_iin),
    ) -> ApplicationPage:
        """Applications of one applicant (a personal-data read: audited). The ИИН goes in the body."""
        reason = iin_problem(body.iin)
        if reason:
            raise Problem(
                422,
                "Request is invalid",
                f"invalid ИИН: {reason}",
                errors=[{"field": "iin", "reason": reason}],
            )
        correlation = _correlation(request)
        deps = runtime.deps
        scope = _office_scope(principal)

        async def work(conn: asyncpg.Connection) -> list[dict[str, Any]]:
            rows = await deps.queries.by_iin(conn, body.iin, scope, _own_submissions_only(principal))
            await deps.service.audit.append(
                conn,
                _audit_read(
                    principal,
                    correlation,
                    [str(r["application_id"]) for r in rows],
                    pseudonym(app.state.token_secret, body.iin),
                ),
            )
            return rows

        rows = await runtime.in_transaction(work)
        return ApplicationPage(items=[_view(r) for r in rows])

    @app.exception_handler(RequestValidationError)
    async def _malformed(request: Request, exc: RequestValidationError) -> Response:
        """A submission whose fields are missing or malformed is still a refused submission of
        an identified officer: recorded as `ApplicationRejectedAtIntake` (quality indicators)."""
        if request.method == "POST" and request.url.path == "/v1/applications":
            principal = _submitter(request)
            body = exc.body if isinstance(exc.body, dict) else None
            if principal is not None and body is not None and body.get("office_id") == principal.office:
                problems = [
                    IntakeProblem(code="invalid_field", field=e["field"], message=e["reason"])
                    for e in validation_errors(exc)
                ]
                correlation = _correlation(request)

                def text(name: str) -> str:
                    value = body.get(name)
                    return value if isinstance(value, str) else ""

                recorded = await runtime.in_transaction(
                    lambda conn: runtime.deps.service.record_malformed(
                        conn,
                        service_id=text("service_id"),
                        channel=text("channel"),
                        idempotency_key=text("idempotency_key"),
                        problems=problems,
                        actor=_actor(principal),
                        correlation_id=correlation,
                    )
                )
                errors = validation_errors(exc)
                return problem_response(
                    422,
                    "Request is invalid",
                    f"{len(errors)} field(s) failed validation; recorded as a refused submission",
                    errors=errors,
                    application_id=recorded.application_id,
                )
        return validation_problem(exc)

    def _submitter(request: Request) -> Principal | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            principal = verify_token(app.state.token_secret, token, issuer=app.state.token_issuer)
        except InvalidToken:
            return None
        return principal if principal.role in SUBMIT_ROLES else None

    return app


def _audit_read(principal: Principal, correlation: str, application_ids: list[str], person: str) -> Any:
    from shared.audit import AuditEntry

    return AuditEntry(
        actor=principal.subject,
        role=principal.role.value,
        office=principal.office,
        action="personal_data.read",
        subject="applicant/by-iin",
        details={
            "query": "applications by applicant ИИН",
            "person_pseudonym": person,  # HMAC of the ИИН: answers "who looked up X" without storing X
            "results": application_ids[:200],
        },
        correlation_id=correlation,
    )


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
