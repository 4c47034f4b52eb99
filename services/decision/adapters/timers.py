"""The decision service's timers (`shared.scheduling`), keyed by application: the domain's timer
changes (`domain/timers.py`) applied in the command's unit of work."""

from __future__ import annotations

import asyncpg

from services.decision.domain.timers import CancelTimers, ScheduleTimer, TimerChange
from shared.scheduling import TimerTable


class TimerStore(TimerTable):
    def __init__(self, schema: str) -> None:
        super().__init__(schema, "application_id")

    async def apply(self, conn: asyncpg.Connection, application_id: str, changes: list[TimerChange]) -> None:
        for change in changes:
            if isinstance(change, CancelTimers):
                await self.cancel(conn, application_id, change.kinds)
            elif isinstance(change, ScheduleTimer):
                await self.schedule(conn, application_id, change.kind, change.due_at, change.target)

    def session(self, conn: asyncpg.Connection) -> BoundTimers:
        return BoundTimers(self, conn)


class BoundTimers:
    """The timer store on one unit of work's connection."""

    def __init__(self, store: TimerStore, conn: asyncpg.Connection) -> None:
        self.store = store
        self.conn = conn

    async def apply(self, application_id: str, changes: list[TimerChange]) -> None:
        await self.store.apply(self.conn, application_id, changes)

    async def mark_fired(self, timer_id: int, by: str) -> bool:
        return await self.store.mark_fired(self.conn, timer_id, by)
