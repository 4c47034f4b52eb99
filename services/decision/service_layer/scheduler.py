"""The timer scheduler: lease due timers, then fire each one through the bus like any command.

Leasing commits at once, so the scheduler holds no lock while a timer's case is changed: it
takes locks in the same order as an officer's command (the case's events, then its timers)
and the two can only conflict (retried), never deadlock. A timer whose firing fails for a
reason a retry cannot mend (a bug, an event that no longer decodes) is postponed with back-off
and never blocks the timers behind it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import cast

import asyncpg
import structlog

from services.decision.adapters.timers import DueTimer, TimerStore
from services.decision.domain import commands as c
from services.decision.service_layer.handlers import FireDueTimer, TimerGone
from services.decision.service_layer.unit_of_work import PgDecisionUnit
from services.decision.settings import DecisionSettings
from shared.contracts.decisions import TimerKind
from shared.service_layer import MessageBus, Meta, is_retryable

log = structlog.get_logger(__name__)


class TimerScheduler:
    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        bus: MessageBus[PgDecisionUnit],
        settings: DecisionSettings,
        clock: Callable[[], datetime],
    ) -> None:
        self.pool = pool
        self.timers = TimerStore(schema)
        self.bus = bus
        self.settings = settings
        self.clock = clock

    async def fire_due(self, *, limit: int | None = None, worker: str = "scheduler") -> int:
        """Lease up to `limit` due timers and fire them; return how many were fired."""
        async with self.pool.acquire() as conn:
            due = await self.timers.claim_due(
                conn,
                self.clock(),
                limit or self.settings.scheduler_batch,
                worker,
                self.settings.timer_lease_s,
            )
        fired = 0
        for timer in due:
            fired += await self.fire(timer, worker)
        return fired

    async def fire(self, timer: DueTimer, worker: str) -> int:
        command = FireDueTimer(
            timer.id, timer.application_id, cast(TimerKind, timer.kind), timer.target, worker
        )
        try:
            await self.bus.handle(command, Meta(c.SYSTEM, causation_id=f"timer:{timer.id}"))
        except TimerGone:
            return 0
        except Exception as exc:
            if is_retryable(exc):
                raise  # the database is away: the lease runs out and the timer is tried again
            log.error("timer failed, postponed", timer=timer.id, kind=timer.kind, error=type(exc).__name__)
            async with self.pool.acquire() as conn:
                await self.timers.postpone_after_failure(
                    conn, timer.id, type(exc).__name__, self.settings.timer_max_backoff_s
                )
            return 0
        return 1
