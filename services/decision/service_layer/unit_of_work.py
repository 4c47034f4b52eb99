"""The decision unit of work: the case streams, its timers and the `cases` projection, in one
transaction. `DecisionUnit` is the port the handlers use; `PgDecisionUnit` the PostgreSQL adapter
(the unit tests use an in-memory one)."""

from __future__ import annotations

from typing import Protocol

import asyncpg

from services.decision.adapters.projection import CaseProjection
from services.decision.adapters.timers import TimerStore
from services.decision.domain.model import CaseState
from services.decision.domain.timers import TimerChange
from services.decision.service_layer.case_streams import CaseStreams
from shared.service_layer import PgUnitOfWork, UnitOfWork


class TimerSession(Protocol):
    async def apply(self, application_id: str, changes: list[TimerChange]) -> None: ...

    async def mark_fired(self, timer_id: int, by: str) -> bool:
        """False if the timer was fired or cancelled meanwhile."""
        ...


class CaseViewSession(Protocol):
    async def upsert(self, state: CaseState) -> None: ...


class DecisionUnit(UnitOfWork, Protocol):
    @property
    def cases(self) -> CaseStreams: ...

    @property
    def timers(self) -> TimerSession: ...

    @property
    def projection(self) -> CaseViewSession: ...


class PgDecisionUnit(PgUnitOfWork):
    cases: CaseStreams
    timers: TimerSession
    projection: CaseViewSession

    def _bind(self, conn: asyncpg.Connection) -> None:
        super()._bind(conn)
        self.cases = CaseStreams(self.events, self.append_audited)
        self.timers = TimerStore(self.schema).session(conn)
        self.projection = CaseProjection(self.schema).session(conn)
