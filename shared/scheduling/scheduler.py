"""The timer scheduler: lease due timers, then fire each one through the service's bus like any
command.

Leasing commits at once, so the scheduler holds no lock while a timer's stream is changed: it
takes locks in the same order as an officer's command (the stream's events, then its timers)
and the two can only conflict (retried), never deadlock. A timer whose firing fails for a reason
a retry cannot mend (a bug, an event that no longer decodes) is postponed with back-off and never
blocks the timers behind it; while the database is away the lease runs out and the timer is
tried again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

import asyncpg
import structlog

from shared.metrics import DEADLINE_BREACHES, TIMERS_DUE, TIMERS_FIRED, is_breach
from shared.scheduling.timers import DueTimer, TimerTable
from shared.service_layer import is_retryable

log = structlog.get_logger(__name__)

FireTimer = Callable[[DueTimer, str], Awaitable[object]]
"""Fire one leased timer as `worker` (the service runs its fire command through its bus)."""


class TimerScheduler:
    def __init__(
        self,
        pool: asyncpg.Pool,
        timers: TimerTable,
        fire_timer: FireTimer,
        clock: Callable[[], datetime],
        *,
        batch: int = 100,
        lease_s: float = 60.0,
        max_backoff_s: float = 3600.0,
        interval_s: float = 1.0,
        gone: tuple[type[Exception], ...] = (),
        report_every_s: float = 5.0,
    ) -> None:
        self.pool = pool
        self.timers = timers
        self.fire_timer = fire_timer
        self.clock = clock
        self.batch = batch
        self.lease_s = lease_s
        self.max_backoff_s = max_backoff_s
        self.interval_s = interval_s
        self.gone = gone
        self.report_every_s = report_every_s
        """Errors that say the timer was fired or cancelled meanwhile (nothing to do)."""

    async def fire_due(self, *, limit: int | None = None, worker: str = "scheduler") -> int:
        """Lease up to `limit` due timers and fire them; return how many were fired."""
        async with self.pool.acquire() as conn:
            due = await self.timers.claim_due(conn, self.clock(), limit or self.batch, worker, self.lease_s)
        fired = 0
        for timer in due:
            fired += await self.fire(timer, worker)
        return fired

    async def report_due(self) -> int:
        """Set the gauge of timers past due and not fired (the scheduler's backlog)."""
        async with self.pool.acquire() as conn:
            due = await self.timers.count_due(conn, self.clock())
        TIMERS_DUE.labels(self.timers.schema).set(due)
        return due

    async def fire(self, timer: DueTimer, worker: str) -> int:
        try:
            await self.fire_timer(timer, worker)
        except self.gone:
            return 0
        except Exception as exc:
            if is_retryable(exc):
                raise  # the database is away: the lease runs out and the timer is tried again
            log.error("timer failed, postponed", timer=timer.id, kind=timer.kind, error=type(exc).__name__)
            async with self.pool.acquire() as conn:
                await self.timers.postpone_after_failure(
                    conn, timer.id, type(exc).__name__, self.max_backoff_s
                )
            return 0
        TIMERS_FIRED.labels(self.timers.schema, timer.kind).inc()
        if is_breach(timer.kind):
            DEADLINE_BREACHES.labels(self.timers.schema, timer.kind).inc()
        return 1

    async def run(self, stop: asyncio.Event, worker: str = "scheduler") -> None:
        """Fire due timers until `stop`; a database that is away is waited for, not fatal."""
        reported = 0.0
        while not stop.is_set():
            try:
                if time.monotonic() - reported >= self.report_every_s:
                    await self.report_due()
                    reported = time.monotonic()
                fired = await self.fire_due(worker=worker)
            except Exception as exc:
                if not is_retryable(exc):
                    raise
                log.warning("scheduler: database unavailable, retrying", error=type(exc).__name__)
                fired = 0
            if fired == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.interval_s)
