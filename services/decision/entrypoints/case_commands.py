"""The decision API's case commands: each route authenticates (the roles the policy table
gives its command), parses, builds the command and hands it to `run` (the service's bus), which
answers the case or a problem document."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Path, Request

from services.decision.domain import commands as c
from services.decision.domain.policy import POLICY
from services.decision.entrypoints.http_models import (
    AssignBody,
    CommandAnswer,
    DocumentsBody,
    DraftBody,
    FactBody,
    InspectionBody,
    ReasonBody,
    ReopenBody,
    ScheduleBody,
)
from shared.auth.tokens import Principal
from shared.http.auth import actor_of, may
from shared.http.openapi import documented

CaseId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,100}$", description="the application's id")]
Run = Callable[[Request, str, c.Command], Awaitable[CommandAnswer]]
F = TypeVar("F", bound=Callable[..., Any])

# Who may call each endpoint: the roles the policy table gives its command.
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


def add_case_commands(app: FastAPI, run: Run) -> None:
    def command_route(
        path: str, command: type[c.Command], summary: str, tag: str = "cases"
    ) -> Callable[[F], F]:
        route: Callable[[F], F] = app.post(
            f"/v1/cases/{{application_id}}{path}",
            tags=[tag],
            response_model=CommandAnswer,
            **documented(POLICY, command, summary, 404, 409, body=command is not c.SignDecision),
        )
        return route

    @command_route("/assign", c.AssignExecutor, "Assign the responsible executor")
    async def assign(
        application_id: CaseId, body: AssignBody, request: Request, principal: Principal = ASSIGNER
    ) -> CommandAnswer:
        return await run(request, application_id, c.AssignExecutor(actor_of(principal), body.executor))

    @command_route("/documents-check", c.CheckDocuments, "Record the documents check")
    async def documents(
        application_id: CaseId, body: DocumentsBody, request: Request, principal: Principal = DOCUMENT_CHECKER
    ) -> CommandAnswer:
        command = c.CheckDocuments(actor_of(principal), body.complete, body.notes)
        return await run(request, application_id, command)

    @command_route("/inspection/schedule", c.ScheduleInspection, "Schedule the inspection", "inspections")
    async def schedule(
        application_id: CaseId, body: ScheduleBody, request: Request, principal: Principal = SCHEDULER
    ) -> CommandAnswer:
        command = c.ScheduleInspection(
            actor_of(principal), body.inspection_date, body.inspecting_body, body.communicated_to_applicant
        )
        return await run(request, application_id, command)

    @command_route("/inspection/complete", c.RecordInspection, "Record the inspection act", "inspections")
    async def complete(
        application_id: CaseId, body: InspectionBody, request: Request, principal: Principal = INSPECTOR
    ) -> CommandAnswer:
        return await run(request, application_id, c.RecordInspection(actor_of(principal), body.act))

    @command_route("/draft", c.DraftDecision, "Draft the decision (evaluated at once)", "decisions")
    async def draft(
        application_id: CaseId, body: DraftBody, request: Request, principal: Principal = DRAFTER
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

    @command_route("/return", c.ReturnForRework, "Return the draft for rework", "decisions")
    async def return_for_rework(
        application_id: CaseId, body: ReasonBody, request: Request, principal: Principal = RETURNER
    ) -> CommandAnswer:
        return await run(request, application_id, c.ReturnForRework(actor_of(principal), body.reason))

    @command_route("/sign", c.SignDecision, "Sign the draft: the decision is made", "decisions")
    async def sign(application_id: CaseId, request: Request, principal: Principal = SIGNER) -> CommandAnswer:
        return await run(request, application_id, c.SignDecision(actor_of(principal)))

    @command_route("/extend", c.ExtendTerm, "Extend the term (where the standard allows)")
    async def extend(
        application_id: CaseId, body: ReasonBody, request: Request, principal: Principal = EXTENDER
    ) -> CommandAnswer:
        return await run(request, application_id, c.ExtendTerm(actor_of(principal), body.reason))

    @command_route("/facts", c.RecordFact, "Record a fact that changes the entitlement", "entitlements")
    async def fact(
        application_id: CaseId, body: FactBody, request: Request, principal: Principal = FACT_RECORDER
    ) -> CommandAnswer:
        command = c.RecordFact(actor_of(principal), body.fact, body.on, body.ground_id)
        return await run(request, application_id, command)

    @command_route("/reopen", c.ReopenApplication, "Reopen the case after an upheld complaint")
    async def reopen(
        application_id: CaseId, body: ReopenBody, request: Request, principal: Principal = REOPENER
    ) -> CommandAnswer:
        command = c.ReopenApplication(actor_of(principal), body.complaint_id, body.reason)
        return await run(request, application_id, command)
