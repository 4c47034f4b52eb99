"""The decision use cases: a command on a case, and a due timer firing.

Each runs inside the unit of work the bus opened: load the case, let the aggregate decide
(`decide` dispatches by command type and refuses unknown ones), then write the events, the
timer changes, the `cases` row and the audit record together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import structlog

from services.decision.adapters.catalog import DecisionCatalog
from services.decision.domain import commands as c
from services.decision.domain.case import Env, decide
from services.decision.domain.errors import CaseNotFound, DomainError, InvalidState
from services.decision.domain.model import CaseState, evolve
from services.decision.domain.timers import TimerChange, timer_changes
from services.decision.service_layer.catalogs import CatalogSource
from services.decision.service_layer.unit_of_work import DecisionUnit
from services.decision.settings import DecisionSettings
from shared.audit import AuditEntry
from shared.catalog.errors import CatalogError
from shared.contracts.applications import ApplicationSubmitted
from shared.contracts.decisions import CaseFlagged, CaseOpened, TimerKind
from shared.contracts.event import DomainEvent
from shared.service_layer import Meta

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class OnCase:
    """A command of the case aggregate, addressed to one application's case."""

    application_id: str
    command: c.Command


@dataclass(frozen=True)
class FireDueTimer:
    """A leased timer is due: fire it on its case, once."""

    timer_id: int
    application_id: str
    kind: TimerKind
    target: datetime
    worker: str


@dataclass(frozen=True)
class CaseResult:
    events: list[DomainEvent]
    state: CaseState

    @property
    def flag(self) -> CaseFlagged | None:
        """The command could not complete and the case was flagged instead (a parameter missing)."""
        if len(self.events) == 1 and isinstance(self.events[0], CaseFlagged):
            return self.events[0]
        return None


@dataclass(frozen=True)
class CasePlan:
    """A command's effects on one case, decided but not yet written."""

    application_id: str
    version: int
    """The case's version the events follow (the append's expected version)."""
    events: list[DomainEvent]
    after: CaseState
    timers: list[TimerChange]
    metadata: dict[str, str | None]
    audit: AuditEntry | None


AUDIT_ACTIONS: dict[type, str] = {
    c.OpenCase: "case.open",
    c.AssignExecutor: "case.assign_executor",
    c.CheckDocuments: "case.check_documents",
    c.ScheduleInspection: "inspection.schedule",
    c.RecordInspection: "inspection.record",
    c.DraftDecision: "decision.draft",
    c.ReturnForRework: "decision.return_for_rework",
    c.SignDecision: "decision.sign",
    c.ExtendTerm: "case.extend_term",
    c.FireTimer: "timer.fire",
    c.RecordFact: "entitlement.record_fact",
    c.ReopenApplication: "case.reopen",
    c.CloseWithdrawn: "case.close_withdrawn",
}
"""The audit log's name of each command issued by a person (automated steps are not audited)."""


def actor_of_command(command: c.Command) -> c.Actor:
    actor: c.Actor | None = getattr(command, "actor", None)
    return actor if actor is not None else c.SYSTEM


class CaseHandlers:
    def __init__(self, catalogs: CatalogSource, settings: DecisionSettings, clock: Clock) -> None:
        self.catalogs = catalogs
        self.settings = settings
        self.clock = clock

    def table(self) -> dict[type, Any]:
        """The bus's handler table: command type -> handler."""
        return {OnCase: self.act_on_case, FireDueTimer: self.fire_timer}

    def env(
        self, catalog: DecisionCatalog, service_id: str, edition_id: str, region: str, on: datetime
    ) -> Env:
        tz = catalog.time_zone(region)
        share = catalog.approaching_share(region, on.astimezone(tz).date(), self.settings.approaching_share)
        return Env(
            now=self.clock(),
            service=catalog.service(service_id),
            edition=catalog.edition(service_id, edition_id),
            tz=tz,
            lookup=catalog.lookup,
            approaching_share=share,
            reconfirmation_notice=timedelta(days=self.settings.reconfirmation_notice_days),
            policy=catalog.policy,
        )

    async def act_on_case(self, cmd: OnCase, uow: DecisionUnit, meta: Meta) -> CaseResult:
        catalog = await self.catalogs.current()
        state, opened_under = await uow.cases.load_with_correlation(cmd.application_id)
        plan = self.plan(catalog, cmd, state, opened_under, meta)
        if not plan.events:
            return CaseResult([], state)
        if plan.audit is None:
            await uow.cases.append(cmd.application_id, plan.events, state.version, plan.metadata)
        else:  # the events and the officer's audit record in one statement
            await uow.cases.append_audited(
                cmd.application_id, plan.events, state.version, plan.metadata, plan.audit
            )
        await uow.timers.apply(cmd.application_id, plan.timers)
        await uow.projection.upsert(plan.after)
        return CaseResult(plan.events, plan.after)

    def plan(
        self,
        catalog: DecisionCatalog,
        cmd: OnCase,
        state: CaseState,
        opened_under: str | None,
        meta: Meta,
    ) -> CasePlan:
        """What the command does to the case (pure: the caller writes it, alone or in a batch)."""
        application_id, command = cmd.application_id, cmd.command
        # A command that names no conversation of its own (an officer's, over HTTP) continues the
        # case's: every event of an application carries the intake submission's correlation id.
        correlation = meta.correlation_id or opened_under or application_id
        case: ApplicationSubmitted | CaseOpened
        if isinstance(command, c.OpenCase):
            case = command.submitted
        elif state.opened is None:
            raise CaseNotFound(f"no case for application {application_id!r}")
        else:
            case = state.opened
        office = case.office_id
        try:
            env = self.env(catalog, case.service_id, case.edition_id, case.region, case.received_at)
            events = decide(command, state, env)
        except CatalogError as exc:
            # The case names a service, edition or region the catalog no longer knows: nothing
            # the officer can mend by sending the command again.
            raise CatalogCannotAnswer(str(exc), title="The catalog cannot answer") from exc
        metadata = replace(meta, correlation_id=correlation).event_metadata(office=office, region=case.region)
        states: list[CaseState] = []
        after = state
        for event in events:
            after = evolve(after, event)
            states.append(after)
        audit = None
        if events and not meta.actor.is_system:
            details = {"events": [e.event_name for e in events], "version": after.version}
            action = AUDIT_ACTIONS[type(command)]
            audit = AuditEntry.by(meta.actor, action, f"application:{application_id}", details, correlation)
        timers = timer_changes(state, events, env, states) if events else []
        return CasePlan(application_id, state.version, events, after, timers, metadata, audit)

    async def fire_timer(self, cmd: FireDueTimer, uow: DecisionUnit, meta: Meta) -> bool:
        """Fire the timer on its case and mark it fired, in one unit; False if somebody else
        fired or cancelled it meanwhile (then nothing of this firing is kept)."""
        try:
            await self.act_on_case(
                OnCase(cmd.application_id, c.FireTimer(kind=cmd.kind, target=cmd.target)), uow, meta
            )
        except (DomainError, CatalogError) as exc:
            # The case no longer needs it (decided, withdrawn...): recorded as fired, reason logged.
            log.warning(
                "timer had nothing to do", timer=cmd.timer_id, kind=cmd.kind, error=type(exc).__name__
            )
        if not await uow.timers.mark_fired(cmd.timer_id, cmd.worker):
            raise TimerGone(cmd.timer_id)
        return True


class CatalogCannotAnswer(InvalidState):
    code = "catalog"


class TimerGone(Exception):
    """The timer was fired or cancelled while this firing ran: its effects are rolled back."""

    def __init__(self, timer_id: int) -> None:
        super().__init__(f"timer {timer_id} was fired or cancelled meanwhile")
        self.timer_id = timer_id
