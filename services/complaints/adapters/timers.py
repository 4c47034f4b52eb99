"""Review timers, the decision service's pattern (services/decision/adapters/timers.py) keyed by
complaint: written with the events that set them (in the command's unit of work), leased for
firing in a short transaction of their own (`FOR UPDATE SKIP LOCKED`), marked fired in the unit
of work that appends their event, only if nobody fired or cancelled them meanwhile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from shared.db.identifiers import checked_identifier


@dataclass(frozen=True)
class DueTimer:
    id: int
    complaint_id: str
    kind: str
    due_at: datetime


class TimerStore:
    def __init__(self, schema: str) -> None:
        self.table = f"{checked_identifier(schema)}.timers"

    async def schedule(
        self, conn: asyncpg.Connection, complaint_id: str, kind: str, due_at: datetime
    ) -> None:
        await conn.execute(
            f"INSERT INTO {self.table} (complaint_id, kind, due_at, target) VALUES ($1, $2, $3, $3)"
            " ON CONFLICT (complaint_id, kind, target) DO NOTHING",
            complaint_id,
            kind,
            due_at,
        )

    async def cancel(self, conn: asyncpg.Connection, complaint_id: str) -> None:
        await conn.execute(
            f"UPDATE {self.table} SET cancelled_at = now() WHERE complaint_id = $1"
            " AND fired_at IS NULL AND cancelled_at IS NULL",
            complaint_id,
        )

    async def claim_due(
        self, conn: asyncpg.Connection, now: datetime, limit: int, worker: str, lease_s: float
    ) -> list[DueTimer]:
        """Lease due timers to `worker` for `lease_s` seconds (committed at once). Timers another
        scheduler holds or leased are skipped; a lease that ran out can be taken again."""
        rows = await conn.fetch(
            f"UPDATE {self.table} SET leased_until = clock_timestamp() + $4 * interval '1 second',"
            f" leased_by = $3 WHERE id IN (SELECT id FROM {self.table}"
            " WHERE fired_at IS NULL AND cancelled_at IS NULL AND due_at <= $1"
            " AND (leased_until IS NULL OR leased_until < clock_timestamp())"
            " ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED)"
            " RETURNING id, complaint_id, kind, due_at",
            now,
            limit,
            worker,
            lease_s,
        )
        due = [DueTimer(r["id"], r["complaint_id"], r["kind"], r["due_at"]) for r in rows]
        return sorted(due, key=lambda t: (t.due_at, t.id))

    async def mark_fired(self, conn: asyncpg.Connection, timer_id: int, by: str) -> bool:
        marked = await conn.fetchval(
            f"UPDATE {self.table} SET fired_at = now(), fired_by = $2, leased_until = NULL"
            " WHERE id = $1 AND fired_at IS NULL AND cancelled_at IS NULL RETURNING true",
            timer_id,
            by,
        )
        return bool(marked)

    async def postpone_after_failure(
        self, conn: asyncpg.Connection, timer_id: int, error: str, max_backoff_s: float
    ) -> None:
        await conn.execute(
            f"UPDATE {self.table} SET attempts = attempts + 1, last_error = $2, leased_until = NULL,"
            " due_at = now() + least(power(2, attempts) * interval '1 second', $3 * interval '1 second')"
            " WHERE id = $1",
            timer_id,
            error,
            max_backoff_s,
        )

    async def pending(self, conn: asyncpg.Connection, complaint_id: str) -> list[tuple[str, datetime]]:
        rows = await conn.fetch(
            f"SELECT kind, due_at FROM {self.table} WHERE complaint_id = $1"
            " AND fired_at IS NULL AND cancelled_at IS NULL ORDER BY due_at",
            complaint_id,
        )
        return [(r["kind"], r["due_at"]) for r in rows]


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
