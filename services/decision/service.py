"""The decision service as its entrypoints see it: commands go through the message bus, reads
come from the event store and the `cases` projection.

One bus, one unit of work and one retry policy serve the HTTP API, the Kafka consumers and the
timer scheduler alike; a consumer runs its command inside its inbox transaction (`conn`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg

from services.decision.adapters.catalog import DecisionCatalog
from services.decision.adapters.timers import TimerStore
from services.decision.domain import commands as c
from services.decision.domain.model import CaseState
from services.decision.service_layer.catalogs import StoredParameters
from services.decision.service_layer.handlers import CaseHandlers, CaseResult, OnCase, actor_of_command
from services.decision.service_layer.open_cases import OpenCasesTogether
from services.decision.service_layer.scheduler import timer_scheduler
from services.decision.service_layer.unit_of_work import PgDecisionUnit
from services.decision.service_layer.views import CaseViews
from services.decision.settings import DecisionSettings
from shared.messaging.consumer import after_commit
from shared.service_layer import MessageBus, Meta, RetryPolicy

Clock = Callable[[], datetime]

RETRY = RetryPolicy(attempts=20, budget_s=10.0)
"""Busy cases (an automated pipeline, timers and officers at once) may need many attempts."""


def utcnow() -> datetime:
    return datetime.now(UTC)


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
        self.settings = settings or DecisionSettings()
        self.clock = clock
        self.catalogs = StoredParameters(pool, catalog, self.settings)
        self.handlers = CaseHandlers(self.catalogs, self.settings, clock)
        self.open_cases = OpenCasesTogether(schema, self.handlers, self.catalogs)
        """New cases of a consumer's batch opened together (the worker's `BatchHandler`)."""
        self.bus: MessageBus[PgDecisionUnit] = MessageBus(self.handlers.table(), self.unit, RETRY)
        self.scheduler = timer_scheduler(pool, schema, self.bus, self.settings, clock)
        self.views = CaseViews(pool, schema, self.catalogs, clock)
        self.timers = TimerStore(schema)

    def unit(self) -> PgDecisionUnit:
        return PgDecisionUnit(self.pool, self.schema)

    @property
    def catalog(self) -> DecisionCatalog:
        return self.catalogs.catalog

    # ------------------------------------------------------------------ commands

    async def execute(
        self,
        application_id: str,
        command: c.Command,
        *,
        conn: asyncpg.Connection | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> CaseResult:
        """Run a case command; with `conn`, inside that connection's open transaction (a
        consumer's inbox batch, whose owner runs the after-commit actions)."""
        meta = Meta(actor_of_command(command), correlation_id, causation_id)
        within = self.unit().joined(conn, pass_on=after_commit) if conn is not None else None
        result: CaseResult = await self.bus.handle(OnCase(application_id, command), meta, within=within)
        return result

    async def fire_due_timers(self, *, limit: int | None = None, worker: str = "scheduler") -> int:
        return await self.scheduler.fire_due(limit=limit, worker=worker)

    # ------------------------------------------------------------------ reads

    async def get(self, application_id: str) -> CaseState:
        """The case as its events say now (no scope check: for the service's own tools and tests)."""
        return await self.views.load(application_id)

    async def history(self, application_id: str) -> list[dict[str, Any]]:
        return await self.views.events(application_id)

    async def healthy(self) -> bool:
        try:
            async with self.pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False
        return True
