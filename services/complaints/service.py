"""The complaints service as its entrypoints see it: every command goes through one message bus
(one unit of work, one retry policy), whether it came over HTTP, from
`complaints.submissions.v1` or from the timer scheduler; reads without personal data go through
the views."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from services.complaints.service_layer.handlers import ComplaintHandlers
from services.complaints.service_layer.ports import CatalogSource
from services.complaints.service_layer.scheduler import timer_scheduler
from services.complaints.service_layer.unit_of_work import PgComplaintsUnit
from services.complaints.service_layer.views import ComplaintViews
from services.complaints.settings import ComplaintsSettings
from shared.messaging.consumer import after_commit
from shared.service_layer import MessageBus, Meta, RetryPolicy

Clock = Callable[[], datetime]
RETRY = RetryPolicy(attempts=10, budget_s=5.0)


def utc_now() -> datetime:
    return datetime.now(UTC)


class ComplaintsService:
    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        catalogs: CatalogSource,
        settings: ComplaintsSettings,
        clock: Clock = utc_now,
    ) -> None:
        self.pool = pool
        self.schema = schema
        self.settings = settings
        self.handlers = ComplaintHandlers(
            catalogs, clock, settings.approaching_days, timedelta(seconds=settings.clock_skew_s)
        )
        self.bus: MessageBus[PgComplaintsUnit] = MessageBus(self.handlers.table(), self.unit, RETRY)
        self.views = ComplaintViews(pool, schema, catalogs)
        self.scheduler = timer_scheduler(pool, schema, self.bus, settings, clock)

    def unit(self) -> PgComplaintsUnit:
        return PgComplaintsUnit(self.pool, self.schema)

    async def handle(self, command: object, meta: Meta, *, conn: asyncpg.Connection | None = None) -> Any:
        """Run a command; with `conn`, inside that connection's open transaction (a consumer's
        inbox batch, whose owner runs the after-commit actions)."""
        within = self.unit().joined(conn, pass_on=after_commit) if conn is not None else None
        return await self.bus.handle(command, meta, within=within)
