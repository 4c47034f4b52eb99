"""Application service: load the case stream, decide, and commit events + timers + projection +
audit record in one transaction (retrying on a concurrent append)."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import structlog

from services.decision.adapters.catalog import DecisionCatalog
from services.decision.adapters.projection import CaseProjection
from services.decision.adapters.timers import TimerStore
from services.decision.domain import commands as c
from services.decision.domain.case import Env, decide
from services.decision.domain.errors import CaseNotFound, DomainError
from services.decision.domain.model import CaseState, evolve, replay
from services.decision.domain.timers import timer_changes
from services.decision.settings import DecisionSettings
from shared.audit import AuditEntry, AuditLog
from shared.catalog.errors import CatalogError
from shared.catalog.store import CatalogStore
from shared.contracts.decisions import DECISION_EVENTS
from shared.contracts.event import DomainEvent, ce_type_of
from shared.eventstore import ConcurrencyConflict, EventStore, NewEvent

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 20
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def stream_of(application_id: str) -> str:
    return f"case-{application_id}"


_ACTIONS: dict[type, str] = {
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
}


@dataclass(frozen=True)
class Outcome:
    events: list[DomainEvent]
    state: CaseState


class DecisionService:
    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        catalog: DecisionCatalog,
        settings: DecisionSettings | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.pool = pool
        self.schema = schema
        self.catalog = catalog
        self.settings = settings or DecisionSettings()
        self.clock = clock
        self.store = EventStore(schema)
        self.audit = AuditLog(schema)
        self.timers = TimerStore(schema)
        self.projection = CaseProjection(schema)
        self._parameters_read_at = -math.inf

    async def refresh_parameters(self, conn: asyncpg.Connection, *, force: bool = False) -> None:
        """Re-read the parameter values administrators recorded (schema `catalog`), at most every
        `parameter_refresh_s` seconds, so decisions use them rather than only the examples."""
        if not force and time.monotonic() - self._parameters_read_at < self.settings.parameter_refresh_s:
            return
        store = CatalogStore(self.catalog.catalog, self.settings.catalog_schema)
        if self._parameters_read_at == -math.inf:  # the catalog schema exists after the first read
            await store.migrate(conn)
        records = await store.parameter_records(conn)
        self.catalog = self.catalog.with_stored(records)
        self._parameters_read_at = time.monotonic()

    # ------------------------------------------------------------------ reading

    async def load(self, conn: asyncpg.Connection, application_id: str) -> CaseState:
        stored = await self.store.load(conn, stream_of(application_id))
        events = [DECISION_EVENTS.decode(ce_type_of(e.event_type, e.schema_version), e.data) for e in stored]
        return replay(application_id, events)

    async def get(self, application_id: str) -> CaseState:
        async with self.pool.acquire() as conn:
            state = await self.load(conn, application_id)
        if state.opened is None:
            raise CaseNotFound(f"no case for application {application_id!r}")
        return state

    async def history(self, application_id: str) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            stored = await self.store.load(conn, stream_of(application_id))
        return [
            {"version": e.version, "type": e.event_type, "recorded_at": e.recorded_at, "data": e.data}
            for e in stored
        ]

    def env(self, service_id: str, edition_id: str, region: str, on: datetime) -> Env:
        tz = self.catalog.time_zone(region)
        share = self.catalog.approaching_share(
            region, on.astimezone(tz).date(), self.settings.approaching_share
        )
        return Env(
            now=self.clock(),
            service=self.catalog.service(service_id),
            edition=self.catalog.edition(service_id, edition_id),
            tz=tz,
            lookup=self.catalog.lookup,
            approaching_share=share,
            reconfirmation_notice=timedelta(days=self.settings.reconfirmation_notice_days),
            policy=self.catalog.policy,
        )

    # ------------------------------------------------------------------ writing

    async def execute(
        self,
        application_id: str,
        command: c.Command,
        *,
        conn: asyncpg.Connection | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> Outcome:
        if conn is not None:
            return await self._execute(conn, application_id, command, correlation_id, causation_id)
        async with self.pool.acquire() as own:
            return await self._execute(own, application_id, command, correlation_id, causation_id)

    async def _execute(
        self,
        conn: asyncpg.Connection,
        application_id: str,
        command: c.Command,
        correlation_id: str | None,
        causation_id: str | None,
    ) -> Outcome:
        for attempt in range(MAX_ATTEMPTS):
            try:
                if conn.is_in_transaction():
                    # Inside the caller's transaction (inbox, scheduler batch): nothing is written
                    # before the append, whose own savepoint undoes a conflicting attempt.
                    return await self._attempt(conn, application_id, command, correlation_id, causation_id)
                async with conn.transaction():
                    return await self._attempt(conn, application_id, command, correlation_id, causation_id)
            except ConcurrencyConflict:
                log.info("concurrent append, retrying", application_id=application_id, attempt=attempt)
        raise ConcurrencyConflict(stream_of(application_id), -1, -1)

    async def _attempt(
        self,
        conn: asyncpg.Connection,
        application_id: str,
        command: c.Command,
        correlation_id: str | None,
        causation_id: str | None,
    ) -> Outcome:
        await self.refresh_parameters(conn)
        state = await self.load(conn, application_id)
        if isinstance(command, c.OpenCase):
            sub = command.submitted
            env = self.env(sub.service_id, sub.edition_id, sub.region, sub.received_at)
        else:
            if state.opened is None:
                raise CaseNotFound(f"no case for application {application_id!r}")
            o = state.opened
            env = self.env(o.service_id, o.edition_id, o.region, o.received_at)
        events = decide(command, state, env)
        if not events:
            return Outcome([], state)
        actor = getattr(command, "actor", None)
        office = state.opened.office_id if state.opened else getattr(command, "submitted").office_id  # noqa: B009
        meta: dict[str, Any] = {
            "correlation_id": correlation_id or application_id,
            "causation_id": causation_id,
            "actor": actor.subject if actor is not None else "system:decision",
            "office": office,
        }
        await self.store.append(
            conn,
            stream_of(application_id),
            [
                NewEvent(
                    event_type=e.event_name,
                    data=e.model_dump(mode="json"),
                    schema_version=e.event_version,
                    metadata=meta,
                    event_id=uuid.uuid4(),
                )
                for e in events
            ],
            expected_version=state.version,
        )
        after = state
        for e in events:
            after = evolve(after, e)
        await self.timers.apply(conn, application_id, timer_changes(state, events, env))
        await self.projection.upsert(conn, after)
        if actor is not None and actor.role != "system":
            await self.audit.append(
                conn,
                AuditEntry(
                    actor=actor.subject,
                    role=actor.role,
                    office=actor.office,
                    action=_ACTIONS[type(command)],
                    subject=f"application:{application_id}",
                    details={"events": [e.event_name for e in events], "version": after.version},
                    correlation_id=correlation_id,
                ),
            )
        return Outcome(events, after)

    # ------------------------------------------------------------------ timers

    async def fire_due_timers(self, *, limit: int | None = None, worker: str = "scheduler") -> int:
        """Fire due timers (one transaction per batch: events appended + timer marked fired).

        Each timer runs in its own savepoint: one that fails (a bug, an event that no longer
        decodes) is postponed with back-off and logged, and never blocks the timers behind it.
        """
        fired = 0
        async with self.pool.acquire() as conn, conn.transaction():
            due = await self.timers.claim_due(conn, self.clock(), limit or self.settings.scheduler_batch)
            for timer in due:
                command = c.FireTimer(kind=timer.kind, target=timer.target)  # type: ignore[arg-type]
                try:
                    async with conn.transaction():
                        await self._execute(conn, timer.application_id, command, None, f"timer:{timer.id}")
                except (DomainError, CatalogError) as exc:
                    # The case no longer needs it (decided, withdrawn...): recorded as fired, reason logged.
                    log.warning(
                        "timer had nothing to do", timer=timer.id, kind=timer.kind, error=type(exc).__name__
                    )
                except Exception as exc:
                    log.error(
                        "timer failed, postponed", timer=timer.id, kind=timer.kind, error=type(exc).__name__
                    )
                    await self.timers.postpone_after_failure(
                        conn, timer.id, type(exc).__name__, self.settings.timer_max_backoff_s
                    )
                    continue
                await self.timers.mark_fired(conn, timer.id, worker)
                fired += 1
        return fired

    async def overdue(self, office: str) -> list[asyncpg.Record]:
        async with self.pool.acquire() as conn:
            return await self.projection.overdue(conn, office, self.clock())
