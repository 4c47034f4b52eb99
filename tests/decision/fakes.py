"""The decision unit of work in memory: what the service-layer unit tests run the handlers on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from services.decision.domain.model import CaseState
from services.decision.domain.timers import CancelTimers, ScheduleTimer, TimerChange
from services.decision.service_layer.case_streams import CaseStreams
from shared.eventstore.memory import InMemoryEventStore
from shared.service_layer.memory import InMemoryAudit, InMemoryUnitOfWork


@dataclass
class Timer:
    id: int
    application_id: str
    kind: str
    due_at: datetime
    target: datetime
    fired_by: str | None = None
    cancelled: bool = False

    @property
    def pending(self) -> bool:
        return self.fired_by is None and not self.cancelled


@dataclass
class DecisionWorld:
    """What the database would hold: events, audit records, timers and the `cases` rows."""

    store: InMemoryEventStore = field(default_factory=InMemoryEventStore)
    audit: InMemoryAudit = field(default_factory=InMemoryAudit)
    timers: list[Timer] = field(default_factory=list)
    cases: dict[str, CaseState] = field(default_factory=dict)

    def begin(self) -> FakeDecisionUnit:
        return FakeDecisionUnit(self)

    def pending(self, application_id: str) -> set[str]:
        return {t.kind for t in self.timers if t.application_id == application_id and t.pending}


class _Timers:
    def __init__(self, world: DecisionWorld) -> None:
        self.world = world
        self.changes: list[tuple[str, TimerChange]] = []
        self.fired: list[tuple[int, str]] = []

    async def apply(self, application_id: str, changes: list[TimerChange]) -> None:
        self.changes += [(application_id, change) for change in changes]

    async def mark_fired(self, timer_id: int, by: str) -> bool:
        timer = next(t for t in self.world.timers if t.id == timer_id)
        if not timer.pending:
            return False
        self.fired.append((timer_id, by))
        return True

    def commit(self) -> None:
        for application_id, change in self.changes:
            if isinstance(change, CancelTimers):
                for t in self.world.timers:
                    if t.application_id == application_id and t.kind in change.kinds and t.pending:
                        t.cancelled = True
            elif isinstance(change, ScheduleTimer):
                self.world.timers.append(
                    Timer(
                        len(self.world.timers) + 1, application_id, change.kind, change.due_at, change.target
                    )
                )
        for timer_id, by in self.fired:
            next(t for t in self.world.timers if t.id == timer_id).fired_by = by


class _Cases:
    def __init__(self) -> None:
        self.staged: dict[str, CaseState] = {}

    async def upsert(self, state: CaseState) -> None:
        self.staged[state.application_id] = state


class FakeDecisionUnit(InMemoryUnitOfWork):
    def __init__(self, world: DecisionWorld) -> None:
        super().__init__(world.store, world.audit)
        self.world = world

    def _begin(self) -> None:
        self.cases = CaseStreams(self.events, self.append_audited)
        self.timers = _Timers(self.world)
        self.projection = _Cases()

    def _commit(self) -> None:
        self.timers.commit()
        self.world.cases.update(self.projection.staged)
