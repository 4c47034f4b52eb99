"""The complaints service's review timers (`shared.scheduling`), keyed by complaint: set with the
registration or an extension, cancelled by an answer, in the command's unit of work."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from shared.scheduling import TimerTable


class TimerStore(TimerTable):
    def __init__(self, schema: str) -> None:
        super().__init__(schema, "complaint_id")


class BoundTimers:
    """The timer store on one unit of work's connection."""

    def __init__(self, store: TimerStore, conn: asyncpg.Connection) -> None:
        self.store = store
        self.conn = conn

    async def schedule(self, complaint_id: str, kind: str, due_at: datetime) -> None:
        await self.store.schedule(self.conn, complaint_id, kind, due_at)

    async def cancel(self, complaint_id: str) -> None:
        await self.store.cancel(self.conn, complaint_id)

    async def mark_fired(self, timer_id: int, by: str) -> bool:
        return await self.store.mark_fired(self.conn, timer_id, by)
