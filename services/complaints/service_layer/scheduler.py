"""The review timer scheduler, the decision service's pattern: lease due timers in a short
transaction of their own, then fire each one through the bus like any command, so a timer and a
reviewer's answer on one complaint take locks in the same order (events, then timers). A timer
whose firing fails for a reason a retry cannot mend is postponed with back-off; a timer that
came due while no worker ran fires at the next start (it is a row, not a sleeping task)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime

import asyncpg
import structlog

from services.complaints.adapters.timers import DueTimer, TimerStore
from services.complaints.domain.commands import FireReviewTimer
from services.complaints.service_layer.handlers import TimerGone
from services.complaints.service_layer.unit_of_work import PgComplaintsUnit
from services.complaints.settings import ComplaintsSettings
from shared.domain.actor import SYSTEM_ROLE, Actor
from shared.service_layer import MessageBus, Meta, is_retryable

log = structlog.get_logger(__name__)

SYSTEM = Actor("complaints-service", SYSTEM_ROLE, "system")


class TimerScheduler:
    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        bus: MessageBus[PgComplaintsUnit],
        settings: ComplaintsSettings,
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
        command = FireReviewTimer(timer.id, timer.complaint_id, timer.kind, worker)
        try:
            await self.bus.handle(command, Meta(SYSTEM, causation_id=f"timer:{timer.id}"))
        except TimerGone:
            return 0
        except Exception as exc:
            if is_retryable(exc):
                raise
            log.error("timer failed, postponed", timer=timer.id, kind=timer.kind, error=type(exc).__name__)
            async with self.pool.acquire() as conn:
                await self.timers.postpone_after_failure(
                    conn, timer.id, type(exc).__name__, self.settings.timer_max_backoff_s
                )
            return 0
        return 1

    async def run(self, stop: asyncio.Event, worker: str = "scheduler") -> None:
        while not stop.is_set():
            try:
                await self.fire_due(worker=worker)
            except Exception as exc:  # the database is away: try again on the next turn
                log.warning("timer scheduling failed", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.scheduler_interval_s)
