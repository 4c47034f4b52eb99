"""Decision HTTP API (default port 8002): case commands by role, worklists, re-evaluation.

Each handler authenticates (the roles the policy table gives the command), parses, builds the
command and hands it to the service's bus; the domain checks the case's office and state, and
its refusals become problem documents (`shared.http.problems`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Query, Request
from prometheus_client import CollectorRegistry, Counter

from services.decision.domain import commands as c
from services.decision.domain.policy import POLICY
from services.decision.domain.queries import ReadCase, ReadCaseDetails, ReadWorklist
from services.decision.entrypoints.http_models import (
    AssignBody,
    CaseView,
    CommandAnswer,
    DocumentsBody,
    DraftBody,
    FactBody,
    HistoryEntry,
    InspectionBody,
    ReasonBody,
    Reevaluation,
    ReopenBody,
    ScheduleBody,
    case_view,
)
from services.decision.service import DecisionService
from services.decision.service_layer.handlers import CaseResult
from shared.auth.tokens import Principal, local_secret
from shared.domain.errors import DomainError
from shared.http.app import create_app as create_base_app
from shared.http.auth import actor_of, may
from shared.http.correlation import correlation_id
from shared.http.problems import Problem, problem_type
from shared.settings import PlatformSettings

DEFAULT_ISSUER = "qyzmet"

ASSIGNER = Depends(may(POLICY, c.AssignExecutor))
DOCUMENT_CHECKER = Depends(may(POLICY, c.CheckDocuments))
SCHEDULER = Depends(may(POLICY, c.ScheduleInspection))
INSPECTOR = Depends(may(POLICY, c.RecordInspection))
DRAFTER = Depends(may(POLICY, c.DraftDecision))
RETURNER = Depends(may(POLICY, c.ReturnForRework))
SIGNER = Depends(may(POLICY, c.SignDecision))
EXTENDER = Depends(may(POLICY, c.ExtendTerm))
FACT_RECORDER = Depends(may(POLICY, c.RecordFact))
REOPENER = Depends(may(POLICY, c.ReopenApplication))
READER = Depends(may(POLICY, ReadCase))
CASE_DETAIL = Depends(may(POLICY, ReadCaseDetails))
"""Who may read a case's history and evaluations (household names and incomes): not the desk."""
WORKLIST = Depends(may(POLICY, ReadWorklist))


def create_app(
    service: DecisionService | None = None,
    *,
    token_secret: str | None = None,
    token_issuer: str = DEFAULT_ISSUER,
    metrics: CollectorRegistry | None = None,
) -> FastAPI:
    """The decision API. Without `service`, the app opens its own service context on start-up."""
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
            raise Problem(503, "Service unavailable", "the decision service is starting")
        return found

    async def health() -> bool:
        return "service" in holder and await holder["service"].healthy()

    app = create_base_app("Qyzmet decision", metrics=registry, health=health)
    platform = PlatformSettings()
    app.state.token_secret = token_secret or platform.token_secret or local_secret(platform.data_dir)
    app.state.token_issuer = token_issuer

    if service is None:

        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            from services.decision.bootstrap import MIGRATIONS, SCHEMA, SERVICE, build_service
            from shared.runtime.context import service_context

            async with service_context(SERVICE, SCHEMA, MIGRATIONS, platform) as ctx:
                holder["service"] = build_service(ctx.pool, ctx.schema)
                yield

        app.router.lifespan_context = lifespan

    async def run(request: Request, application_id: str, command: c.Command) -> CommandAnswer:
        name = type(command).__name__
        try:
            result: CaseResult = await svc().execute(
                application_id, command, correlation_id=correlation_id(request)
            )
        except DomainError as exc:
            commands_total.labels(name, exc.code).inc()
            raise
        flag = result.flag
        if flag is not None:
            commands_total.labels(name, "flagged").inc()
            raise Problem(
                409,
                "Case flagged",
                flag.message,
                type_=problem_type(flag.reason),
                parameter=flag.parameter,
                region=flag.region,
                on_date=flag.on_date.isoformat() if flag.on_date else None,
            )
        commands_total.labels(name, "ok").inc()
        return CommandAnswer(events=[e.event_name for e in result.events], case=case_view(result.state))

    @app.get("/v1/cases/{application_id}", tags=["cases"], response_model=CaseView)
    async def get_case(application_id: str, principal: Principal = READER) -> CaseView:
        return case_view(await svc().views.case(application_id, actor_of(principal)))

    @app.get("/v1/cases/{application_id}/history", tags=["cases"], response_model=list[HistoryEntry])
    async def history(application_id: str, principal: Principal = CASE_DETAIL) -> list[HistoryEntry]:
        return [HistoryEntry(**e) for e in await svc().views.history(application_id, actor_of(principal))]

    @app.post("/v1/cases/{application_id}/assign", tags=["cases"], response_model=CommandAnswer)
    async def assign(
        application_id: str, body: AssignBody, request: Request, principal: Principal = ASSIGNER
    ) -> CommandAnswer:
        return await run(request, application_id, c.AssignExecutor(actor_of(principal), body.executor))

    @app.post("/v1/cases/{application_id}/documents-check", tags=["cases"], response_model=CommandAnswer)
    async def documents(
        application_id: str, body: DocumentsBody, request: Request, principal: Principal = DOCUMENT_CHECKER
    ) -> CommandAnswer:
        command = c.CheckDocuments(actor_of(principal), body.complete, body.notes)
        return await run(request, application_id, command)

    @app.post(
        "/v1/cases/{application_id}/inspection/schedule", tags=["inspections"], response_model=CommandAnswer
    )
    async def schedule(
        application_id: str, body: ScheduleBody, request: Request, principal: Principal = SCHEDULER
    ) -> CommandAnswer:
        command = c.ScheduleInspection(
            actor_of(principal), body.inspection_date, body.inspecting_body, body.communicated_to_applicant
        )
        return await run(request, application_id, command)

    @app.post(
        "/v1/cases/{application_id}/inspection/complete", tags=["inspections"], response_model=CommandAnswer
    )
    async def complete(
        application_id: str, body: InspectionBody, request: Request, principal: Principal = INSPECTOR
    ) -> CommandAnswer:
        return await run(request, application_id, c.RecordInspection(actor_of(principal), body.act))

    @app.post("/v1/cases/{application_id}/draft", tags=["decisions"], response_model=CommandAnswer)
    async def draft(
        application_id: str, body: DraftBody, request: Request, principal: Principal = DRAFTER
    ) -> CommandAnswer:
        command = c.DraftDecision(
            actor=actor_of(principal),
            household=tuple(body.household) if body.household is not None else None,
            housing_costs=body.housing_costs,
            registered_unemployed=body.registered_unemployed,
            subject_birth_date=body.subject_birth_date,
            amount=body.amount,
            period_start=body.period_start,
            period_end=body.period_end,
            outcome=body.outcome,
            grounds=tuple(body.grounds),
            facts=tuple(sorted(body.facts.items())),
        )
        return await run(request, application_id, command)

    @app.post("/v1/cases/{application_id}/return", tags=["decisions"], response_model=CommandAnswer)
    async def return_for_rework(
        application_id: str, body: ReasonBody, request: Request, principal: Principal = RETURNER
    ) -> CommandAnswer:
        return await run(request, application_id, c.ReturnForRework(actor_of(principal), body.reason))

    @app.post("/v1/cases/{application_id}/sign", tags=["decisions"], response_model=CommandAnswer)
    async def sign(application_id: str, request: Request, principal: Principal = SIGNER) -> CommandAnswer:
        return await run(request, application_id, c.SignDecision(actor_of(principal)))

    @app.post("/v1/cases/{application_id}/extend", tags=["cases"], response_model=CommandAnswer)
    async def extend(
        application_id: str, body: ReasonBody, request: Request, principal: Principal = EXTENDER
    ) -> CommandAnswer:
        return await run(request, application_id, c.ExtendTerm(actor_of(principal), body.reason))

    @app.post("/v1/cases/{application_id}/facts", tags=["entitlements"], response_model=CommandAnswer)
    async def fact(
        application_id: str, body: FactBody, request: Request, principal: Principal = FACT_RECORDER
    ) -> CommandAnswer:
        command = c.RecordFact(actor_of(principal), body.fact, body.on, body.ground_id)
        return await run(request, application_id, command)

    @app.post("/v1/cases/{application_id}/reopen", tags=["cases"], response_model=CommandAnswer)
    async def reopen(
        application_id: str, body: ReopenBody, request: Request, principal: Principal = REOPENER
    ) -> CommandAnswer:
        command = c.ReopenApplication(actor_of(principal), body.complaint_id, body.reason)
        return await run(request, application_id, command)

    @app.get(
        "/v1/cases/{application_id}/decision/reevaluation", tags=["decisions"], response_model=Reevaluation
    )
    async def reevaluation(application_id: str, principal: Principal = CASE_DETAIL) -> Reevaluation:
        return Reevaluation(**await svc().views.reevaluation(application_id, actor_of(principal)))

    @app.get("/v1/worklists/overdue", tags=["worklists"])
    async def overdue(
        office: str = Query(min_length=1, max_length=64), principal: Principal = WORKLIST
    ) -> list[dict[str, object]]:
        return await svc().views.overdue(office, actor_of(principal))

    return app


def main() -> None:
    import uvicorn

    from services.decision.settings import DecisionSettings
    from shared.logging import configure_logging

    platform = PlatformSettings()
    configure_logging(platform.log_level)
    settings = DecisionSettings()
    uvicorn.run(
        create_app(token_issuer=platform.token_issuer), host=settings.api_host, port=settings.api_port
    )


if __name__ == "__main__":
    main()
