"""Decision HTTP API (default port 8002): case commands by role, worklists, re-evaluation.

`head` assigns, returns, signs and extends; `specialist` checks documents, drafts and records
facts; `inspector` schedules and records inspections; `reviewer` reopens after an upheld
complaint. Every command is also checked against the case's office inside the domain.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any, Literal

from fastapi import Depends, FastAPI, Query
from prometheus_client import CollectorRegistry, Counter
from pydantic import Field

from services.decision.domain import commands as c
from services.decision.domain.errors import CaseNotFound, DomainError, Forbidden, InvalidInput
from services.decision.domain.model import CaseState
from services.decision.domain.rules import ParameterMissing, reevaluate
from services.decision.service import DecisionService
from shared.audit import AuditEntry
from shared.auth.roles import Role
from shared.auth.tokens import Principal, local_secret
from shared.catalog.errors import CatalogError
from shared.contracts.decisions import CaseFlagged, DecisionOutcome, HouseholdMember, InspectionAct
from shared.contracts.event import ContractModel
from shared.eventstore import ConcurrencyConflict
from shared.http.app import create_app as create_base_app
from shared.http.auth import current_principal, require_office_scope, require_roles
from shared.http.problems import Problem
from shared.settings import PlatformSettings


class _Body(ContractModel):
    """Request bodies: extra fields and NUL characters refused (as in the event contract)."""


class AssignBody(_Body):
    executor: str = Field(min_length=1, max_length=200)


class DocumentsBody(_Body):
    complete: bool
    notes: str = Field(default="", max_length=4000)


class ScheduleBody(_Body):
    inspection_date: date
    inspecting_body: str = Field(default="district_commission", max_length=80)
    communicated_to_applicant: bool = True


class InspectionBody(_Body):
    act: InspectionAct


class DraftBody(_Body):
    household: list[HouseholdMember] | None = Field(default=None, max_length=50)
    housing_costs: str | None = Field(default=None, pattern=r"^\d{1,12}(\.\d{1,2})?$")
    registered_unemployed: bool | None = None
    subject_birth_date: date | None = None
    amount: str | None = Field(default=None, pattern=r"^\d{1,12}(\.\d{1,2})?$")
    period_start: date | None = None
    period_end: date | None = None
    outcome: DecisionOutcome | None = None
    grounds: list[str] = Field(default_factory=list, max_length=20)
    facts: dict[str, str] = Field(default_factory=dict)


class ReasonBody(_Body):
    reason: str = Field(min_length=1, max_length=2000)


class FactBody(_Body):
    fact: Literal[
        "death",
        "moved_away",
        "full_state_care",
        "false_information",
        "child_turned_18",
        "refused_work",
        "placed_in_job",
        "reconfirmation_received",
    ]
    on: date
    ground_id: str | None = Field(default=None, max_length=120, description="catalog ground, if several fit")


class ReopenBody(_Body):
    complaint_id: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2000)


AS_HEAD = Depends(require_roles(Role.HEAD))
AS_SPECIALIST = Depends(require_roles(Role.SPECIALIST))
AS_INSPECTOR = Depends(require_roles(Role.INSPECTOR))
AS_SCHEDULER = Depends(require_roles(Role.INSPECTOR, Role.SPECIALIST, Role.HEAD))
AS_REVIEWER = Depends(require_roles(Role.REVIEWER))
ANY_ROLE = Depends(current_principal)
CASE_DETAIL = Depends(require_roles(Role.SPECIALIST, Role.HEAD, Role.INSPECTOR, Role.REVIEWER, Role.AUDITOR))
"""Who may read a case's history and evaluations (household names and incomes): not the desk."""
DEFAULT_ISSUER = "qyzmet"


def _actor(principal: Principal) -> c.Actor:
    return c.Actor(subject=principal.subject, role=principal.role.value, office=principal.office)


def _view(state: CaseState) -> dict[str, Any]:
    opened = state.opened
    assert opened is not None
    return {
        "application_id": state.application_id,
        "registration_number": opened.registration_number,
        "service_id": opened.service_id,
        "edition_id": opened.edition_id,
        "office_id": opened.office_id,
        "channel": opened.channel,
        "status": state.status.value,
        "version": state.version,
        "executor": state.executor,
        "due_at": state.due_at,
        "inspection_required": opened.inspection,
        "signature_required": opened.signature_required,
        "inspection_date": state.inspection_date,
        "inspection_completed": state.inspection is not None,
        "draft": state.draft.model_dump(mode="json") if state.draft else None,
        "decision": state.decision.model_dump(mode="json") if state.decision else None,
        "flags": [f.model_dump(mode="json") for f in state.flags],
        "breached": state.breached,
    }


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

    async def health() -> bool:
        svc = holder.get("service")
        if svc is None:
            return False
        try:
            async with svc.pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
        except Exception:
            return False
        return True

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

    def svc() -> DecisionService:
        found = holder.get("service")
        if found is None:
            raise Problem(503, "Service unavailable", "the decision service is starting")
        return found

    async def run(application_id: str, command: c.Command) -> dict[str, Any]:
        name = type(command).__name__
        try:
            result = await svc().execute(application_id, command)
        except CaseNotFound as exc:
            commands_total.labels(name, "not_found").inc()
            raise Problem(404, "Case not found", str(exc)) from exc
        except Forbidden as exc:
            commands_total.labels(name, "forbidden").inc()
            raise Problem(403, "Forbidden", str(exc)) from exc
        except InvalidInput as exc:
            commands_total.labels(name, "invalid").inc()
            raise Problem(
                422, "Command refused", str(exc), type_="urn:qyzmet:decision:invalid-input"
            ) from exc
        except DomainError as exc:
            commands_total.labels(name, "conflict").inc()
            raise Problem(409, "Command refused", str(exc), type_=f"urn:qyzmet:decision:{exc.code}") from exc
        except ConcurrencyConflict as exc:
            commands_total.labels(name, "busy").inc()
            raise Problem(
                409, "Case is busy", "the case kept changing while this command ran; try again"
            ) from exc
        except CatalogError as exc:
            commands_total.labels(name, "catalog").inc()
            raise Problem(
                409, "The catalog cannot answer", str(exc), type_="urn:qyzmet:decision:catalog"
            ) from exc
        flag = next((e for e in result.events if isinstance(e, CaseFlagged)), None)
        if flag is not None and len(result.events) == 1:
            commands_total.labels(name, "flagged").inc()
            raise Problem(
                409,
                "Case flagged",
                flag.message,
                type_=f"urn:qyzmet:decision:{flag.reason}",
                parameter=flag.parameter,
                region=flag.region,
                on_date=flag.on_date.isoformat() if flag.on_date else None,
            )
        commands_total.labels(name, "ok").inc()
        return {"events": [e.event_name for e in result.events], "case": _view(result.state)}

    async def scoped_case(application_id: str, principal: Principal) -> CaseState:
        try:
            state = await svc().get(application_id)
        except CaseNotFound as exc:
            raise Problem(404, "Case not found", str(exc)) from exc
        require_office_scope(principal, state.office_id)
        return state

    async def audit_personal_data_read(principal: Principal, application_id: str, what: str) -> None:
        """History and evaluations carry household names and incomes: every read is audited."""
        service = svc()
        async with service.pool.acquire() as conn:
            await service.audit.append(
                conn,
                AuditEntry(
                    actor=principal.subject,
                    role=principal.role.value,
                    office=principal.office,
                    action="personal_data.read",
                    subject=f"application:{application_id}",
                    details={"what": what},
                ),
            )

    @app.get("/v1/cases/{application_id}", tags=["cases"])
    async def get_case(application_id: str, principal: Principal = ANY_ROLE) -> dict[str, Any]:
        view = _view(await scoped_case(application_id, principal))
        if view.get("decision") is not None or view.get("draft") is not None:  # household names, incomes
            await audit_personal_data_read(principal, application_id, "case with decision evaluation")
        return view

    @app.get("/v1/cases/{application_id}/history", tags=["cases"])
    async def history(application_id: str, principal: Principal = CASE_DETAIL) -> list[dict[str, Any]]:
        await scoped_case(application_id, principal)
        await audit_personal_data_read(principal, application_id, "case history")
        return await svc().history(application_id)

    @app.post("/v1/cases/{application_id}/assign", tags=["cases"])
    async def assign(application_id: str, body: AssignBody, principal: Principal = AS_HEAD) -> dict[str, Any]:
        return await run(application_id, c.AssignExecutor(_actor(principal), body.executor))

    @app.post("/v1/cases/{application_id}/documents-check", tags=["cases"])
    async def documents(
        application_id: str,
        body: DocumentsBody,
        principal: Principal = AS_SPECIALIST,
    ) -> dict[str, Any]:
        return await run(application_id, c.CheckDocuments(_actor(principal), body.complete, body.notes))

    @app.post("/v1/cases/{application_id}/inspection/schedule", tags=["inspections"])
    async def schedule(
        application_id: str,
        body: ScheduleBody,
        principal: Principal = AS_SCHEDULER,
    ) -> dict[str, Any]:
        command = c.ScheduleInspection(
            _actor(principal), body.inspection_date, body.inspecting_body, body.communicated_to_applicant
        )
        return await run(application_id, command)

    @app.post("/v1/cases/{application_id}/inspection/complete", tags=["inspections"])
    async def complete(
        application_id: str,
        body: InspectionBody,
        principal: Principal = AS_INSPECTOR,
    ) -> dict[str, Any]:
        return await run(application_id, c.RecordInspection(_actor(principal), body.act))

    @app.post("/v1/cases/{application_id}/draft", tags=["decisions"])
    async def draft(
        application_id: str, body: DraftBody, principal: Principal = AS_SPECIALIST
    ) -> dict[str, Any]:
        command = c.DraftDecision(
            actor=_actor(principal),
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
        return await run(application_id, command)

    @app.post("/v1/cases/{application_id}/return", tags=["decisions"])
    async def return_for_rework(
        application_id: str, body: ReasonBody, principal: Principal = AS_HEAD
    ) -> dict[str, Any]:
        return await run(application_id, c.ReturnForRework(_actor(principal), body.reason))

    @app.post("/v1/cases/{application_id}/sign", tags=["decisions"])
    async def sign(application_id: str, principal: Principal = AS_HEAD) -> dict[str, Any]:
        return await run(application_id, c.SignDecision(_actor(principal)))

    @app.post("/v1/cases/{application_id}/extend", tags=["cases"])
    async def extend(application_id: str, body: ReasonBody, principal: Principal = AS_HEAD) -> dict[str, Any]:
        return await run(application_id, c.ExtendTerm(_actor(principal), body.reason))

    @app.post("/v1/cases/{application_id}/facts", tags=["entitlements"])
    async def fact(
        application_id: str, body: FactBody, principal: Principal = AS_SPECIALIST
    ) -> dict[str, Any]:
        return await run(application_id, c.RecordFact(_actor(principal), body.fact, body.on, body.ground_id))

    @app.post("/v1/cases/{application_id}/reopen", tags=["cases"])
    async def reopen(
        application_id: str, body: ReopenBody, principal: Principal = AS_REVIEWER
    ) -> dict[str, Any]:
        return await run(
            application_id, c.ReopenApplication(_actor(principal), body.complaint_id, body.reason)
        )

    @app.get("/v1/cases/{application_id}/decision/reevaluation", tags=["decisions"])
    async def reevaluation(application_id: str, principal: Principal = CASE_DETAIL) -> dict[str, Any]:
        state = await scoped_case(application_id, principal)
        if state.decision is None:
            raise Problem(409, "No decision", "the case has no decision yet")
        decision = state.decision
        edition = svc().catalog.edition(decision.service_id, decision.edition_id)
        await audit_personal_data_read(principal, application_id, "decision evaluation")
        try:
            again = reevaluate(decision.evaluation, edition)
        except (ParameterMissing, CatalogError) as exc:
            return {
                "reproduced": False,
                "reason": str(exc),
                "recorded": decision.evaluation.model_dump(mode="json"),
            }
        return {
            "reproduced": again == decision.evaluation,
            "recorded": decision.evaluation.model_dump(mode="json"),
            "reevaluated": again.model_dump(mode="json"),
        }

    @app.get("/v1/worklists/overdue", tags=["worklists"])
    async def overdue(
        office: str = Query(min_length=1, max_length=64), principal: Principal = ANY_ROLE
    ) -> list[dict[str, Any]]:
        require_office_scope(principal, office)
        rows = await svc().overdue(office)
        return [dict(row) for row in rows]

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
