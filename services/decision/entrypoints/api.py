"""Decision HTTP API (default port 8002): case commands by role, worklists, re-evaluation.

Each handler authenticates (the roles the policy table gives the command), parses, builds the
command and hands it to the service's bus; the domain checks the case's office and state, and
its refusals become problem documents (`shared.http.problems`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Query, Request
from prometheus_client import CollectorRegistry, Counter

from services.decision.domain import commands as c
from services.decision.domain.policy import POLICY
from services.decision.domain.queries import ReadCaseDetails, ReadCaseStatus, ReadWorklist
from services.decision.entrypoints.case_commands import CaseId, add_case_commands
from services.decision.entrypoints.http_models import (
    CaseStatusView,
    CaseView,
    CommandAnswer,
    HistoryEntry,
    OverdueCase,
    Reevaluation,
    case_view,
    flagged_problem,
    status_view,
)
from services.decision.service import DecisionService
from services.decision.service_layer.handlers import CaseResult
from shared.auth.tokens import Principal, local_secret
from shared.domain.errors import DomainError
from shared.eventstore import ConcurrencyConflict
from shared.http.access_audit import audit_access
from shared.http.app import create_app as create_base_app
from shared.http.auth import actor_of, may
from shared.http.correlation import given_correlation_id
from shared.http.openapi import documented
from shared.http.problems import unavailable
from shared.settings import PlatformSettings

DEFAULT_ISSUER = "qyzmet"
OFFICE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"

# Who may call each endpoint: the roles the policy table gives its command.
STATUS_READER = Depends(may(POLICY, ReadCaseStatus))
CASE_DETAIL = Depends(may(POLICY, ReadCaseDetails))
"""Who may read a case's history and evaluations (household names and incomes): not the desk."""
WORKLIST = Depends(may(POLICY, ReadWorklist))


def create_app(
    service: DecisionService | None = None,
    *,
    token_secret: str | None = None,
    token_issuer: str = DEFAULT_ISSUER,
    metrics: CollectorRegistry | None = None,
    open_service: Callable[[], AbstractAsyncContextManager[DecisionService]] | None = None,
) -> FastAPI:
    """The decision API. Without `service`, the app opens one on start-up (`open_service`, by
    default the service's own context: database, migrations, producer)."""
    registry = metrics or CollectorRegistry()
    commands_total = Counter(
        "decision_commands_total",
        "Case commands by kind and result",
        ["command", "result"],
        registry=registry,
    )
    holder: dict[str, DecisionService] = {}
    if service is not None:
        holder["service"] = service

    def svc() -> DecisionService:
        found = holder.get("service")
        if found is None:
            raise unavailable("the decision service is starting")
        return found

    async def health() -> bool:
        return "service" in holder and await holder["service"].healthy()

    app = create_base_app("Qyzmet decision", metrics=registry, health=health)
    platform = PlatformSettings()
    app.state.token_secret = token_secret or platform.token_secret or local_secret(platform.data_dir)
    app.state.token_issuer = token_issuer
    audit_access(app, svc)

    if service is None:
        opener = open_service or (lambda: own_service(platform))

        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            async with opener() as opened:
                holder["service"] = opened
                yield

        app.router.lifespan_context = lifespan

    async def run(request: Request, application_id: str, command: c.Command) -> CommandAnswer:
        name = type(command).__name__
        try:
            result: CaseResult = await svc().execute(
                application_id, command, correlation_id=given_correlation_id(request)
            )
        except DomainError as exc:
            commands_total.labels(name, exc.code).inc()
            raise
        except ConcurrencyConflict:
            commands_total.labels(name, "busy").inc()  # lost every retry: the client may try again
            raise
        if result.flag is not None:
            commands_total.labels(name, "flagged").inc()
            raise flagged_problem(result.flag)
        commands_total.labels(name, "ok").inc()
        return CommandAnswer(events=[e.event_name for e in result.events], case=case_view(result.state))

    @app.get(
        "/v1/cases/{application_id}",
        tags=["cases"],
        response_model=CaseView | CaseStatusView,
        **documented(POLICY, ReadCaseStatus, "The case, or its status without personal data", 404),
    )
    async def get_case(
        application_id: CaseId, principal: Principal = STATUS_READER
    ) -> CaseView | CaseStatusView:
        """The whole case (audited) for the roles that handle or audit cases; the status only
        for everyone else (ЦОН operators: of the applications they received)."""
        state, whole = await svc().views.case(application_id, actor_of(principal))
        return case_view(state) if whole else status_view(state)

    @app.get(
        "/v1/cases/{application_id}/history",
        tags=["cases"],
        response_model=list[HistoryEntry],
        **documented(POLICY, ReadCaseDetails, "The case's events, oldest first (audited)", 404),
    )
    async def history(application_id: CaseId, principal: Principal = CASE_DETAIL) -> list[HistoryEntry]:
        return [HistoryEntry(**e) for e in await svc().views.history(application_id, actor_of(principal))]

    add_case_commands(app, run)

    @app.get(
        "/v1/cases/{application_id}/decision/reevaluation",
        tags=["decisions"],
        response_model=Reevaluation,
        **documented(POLICY, ReadCaseDetails, "Evaluate the decision again: does it reproduce?", 404, 409),
    )
    async def reevaluation(application_id: CaseId, principal: Principal = CASE_DETAIL) -> Reevaluation:
        return Reevaluation(**await svc().views.reevaluation(application_id, actor_of(principal)))

    @app.get(
        "/v1/worklists/overdue",
        tags=["worklists"],
        response_model=list[OverdueCase],
        **documented(POLICY, ReadWorklist, "An office's open cases past their due date"),
    )
    async def overdue(
        office: Annotated[str, Query(pattern=OFFICE_PATTERN)], principal: Principal = WORKLIST
    ) -> list[OverdueCase]:
        return [OverdueCase(**row) for row in await svc().views.overdue(office, actor_of(principal))]

    return app


@asynccontextmanager
async def own_service(platform: PlatformSettings) -> AsyncIterator[DecisionService]:
    from services.decision.bootstrap import MIGRATIONS, SCHEMA, SERVICE, build_service
    from shared.runtime.context import service_context

    async with service_context(SERVICE, SCHEMA, MIGRATIONS, platform) as ctx:
        yield build_service(ctx.pool, ctx.schema)


def main() -> None:
    from services.decision.settings import DecisionSettings
    from shared.http.app import serve
    from shared.logging import configure_logging

    platform = PlatformSettings()
    configure_logging(platform.log_level)
    settings = DecisionSettings()
    serve(create_app(token_issuer=platform.token_issuer), settings.api_host, settings.api_port)


if __name__ == "__main__":
    main()
