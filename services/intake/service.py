"""The intake service as its entrypoints see it: every command goes through one message bus
(one unit of work, one retry policy), whether it came over HTTP or from `intake.submissions.v1`;
status reads go through the views."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg

from services.intake.domain.ports import OfficeDirectory
from services.intake.service_layer.handlers import EditionSource, IntakeHandlers
from services.intake.service_layer.parameters import StoredParameterRefresh
from services.intake.service_layer.unit_of_work import PgIntakeUnit
from services.intake.service_layer.views import ApplicationViews
from shared.contracts.applications import SubmitApplication
from shared.messaging.consumer import after_commit
from shared.service_layer import MessageBus, Meta, RetryPolicy

Clock = Callable[[], datetime]

RETRY = RetryPolicy(attempts=10, budget_s=5.0)


def utc_now() -> datetime:
    return datetime.now(UTC)


class IntakeService:
    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        catalog: EditionSource,
        offices: OfficeDirectory,
        clock: Clock = utc_now,
        *,
        pseudonym_key: str,
        parameters: StoredParameterRefresh | None = None,
    ) -> None:
        self.pool = pool
        self.parameters = parameters
        self.schema = schema
        self.catalog = catalog
        self.handlers = IntakeHandlers(catalog, offices, clock, pseudonym_key)
        table = self.handlers.table()
        if parameters is not None:
            table[SubmitApplication] = parameters.before(table[SubmitApplication])
        self.bus: MessageBus[PgIntakeUnit] = MessageBus(table, self.unit, RETRY)
        self.views = ApplicationViews(pool, schema)

    def unit(self) -> PgIntakeUnit:
        return PgIntakeUnit(self.pool, self.schema)

    async def handle(self, command: object, meta: Meta, *, conn: asyncpg.Connection | None = None) -> Any:
        """Run a command; with `conn`, inside that connection's open transaction (a consumer's
        inbox batch, whose owner runs the after-commit actions)."""
        within = self.unit().joined(conn, pass_on=after_commit) if conn is not None else None
        return await self.bus.handle(command, meta, within=within)
