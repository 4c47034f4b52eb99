"""Timer store: timers are written with the events that set them (in the command's unit of
work), leased for firing in a short transaction of their own (`FOR UPDATE SKIP LOCKED`, so two
schedulers never lease one timer at once), and marked fired in the unit of work that appends
their events, only if nobody fired or cancelled them meanwhile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.decision.domain.timers import CancelTimers, ScheduleTimer, TimerChange
from shared.db.identifiers import checked_identifier


@dataclass(frozen=True)
class DueTimer:
    id: int
    application_id: str
    kind: str
    due_at: datetime
    target: datetime


class TimerStore:
    def __init__(self, schema: str) -> None:
        self.schema = checked_identifier(schema)
        self.table = f"{self.schema}.timers"

    async def apply(self, conn: asyncpg.Connection, application_id: str, changes: list[TimerChange]) -> None:
        for change in changes:
            if isinstance(change, CancelTimers):
                await conn.execute(
                    f"UPDATE {self.table} SET cancelled_at = now() WHERE application_id = $1"
                    " AND kind = ANY($2::text[]) AND fired_at IS NULL AND cancelled_at IS NULL",
                    application_id,
                    sorted(change.kinds),
                )
            elif isinstance(change, ScheduleTimer):
                await conn.execute(
                    f"INSERT INTO {self.table} (application_id, kind, due_at, target) VALUES ($1, $2, $3, $4)"
                    " ON CONFLICT (application_id, kind, target) DO UPDATE SET due_at = excluded.due_at,"
                    f" cancelled_at = NULL WHERE {self.table}.fired_at IS NULL",
                    application_id,
                    change.kind,
                    change.due_at,
                    change.target,
                )

    def session(self, conn: asyncpg.Connection) -> BoundTimers:
        return BoundTimers(self, conn)

    async def claim_due(
        self, conn: asyncpg.Connection, now: datetime, limit: int, worker: str, lease_s: float
    ) -> list[DueTimer]:
        """Lease due timers to `worker` for `lease_s` seconds (committed at once: no lock is held
        afterwards). Timers another scheduler holds or leased are skipped; a lease that ran out
        (its scheduler died) can be taken again."""
        rows = await conn.fetch(
            f"UPDATE {self.table} SET leased_until = clock_timestamp() + $4 * interval '1 second',"
            f" leased_by = $3 WHERE id IN (SELECT id FROM {self.table}"
            " WHERE fired_at IS NULL AND cancelled_at IS NULL AND due_at <= $1"
            " AND (leased_until IS NULL OR leased_until < clock_timestamp())"
            " ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED)"
            " RETURNING id, application_id, kind, due_at, target",
            now,
            limit,
            worker,
            lease_s,
        )
        due = [DueTimer(r["id"], r["application_id"], r["kind"], r["due_at"], r["target"]) for r in rows]
        return sorted(due, key=lambda t: (t.due_at, t.id))

    async def mark_fired(self, conn: asyncpg.Connection, timer_id: int, by: str) -> bool:
        """Mark a timer fired; False if it was fired or cancelled meanwhile."""
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
        """Count a failed firing and try again later (exponential back-off, capped)."""
        await conn.execute(
            f"UPDATE {self.table} SET attempts = attempts + 1, last_error = $2, leased_until = NULL,"
            " due_at = now() + least(power(2, attempts) * interval '1 second', $3 * interval '1 second')"
            " WHERE id = $1",
            timer_id,
            error,
            max_backoff_s,
        )

    async def pending(self, conn: asyncpg.Connection, application_id: str) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await conn.fetch(
            f"SELECT kind, due_at, target FROM {self.table} WHERE application_id = $1"
            " AND fired_at IS NULL AND cancelled_at IS NULL ORDER BY due_at",
            application_id,
        )
        return rows


class BoundTimers:
    """The timer store on one unit of work's connection."""

    def __init__(self, store: TimerStore, conn: asyncpg.Connection) -> None:
        self.store = store
        self.conn = conn

    async def apply(self, application_id: str, changes: list[TimerChange]) -> None:
        await self.store.apply(self.conn, application_id, changes)

    async def mark_fired(self, timer_id: int, by: str) -> bool:
        return await self.store.mark_fired(self.conn, timer_id, by)
