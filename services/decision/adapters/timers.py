"""Timer store: timers are written with the events that set them, and claimed for firing with
`FOR UPDATE SKIP LOCKED`, so two schedulers never fire one timer twice."""

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

    async def claim_due(self, conn: asyncpg.Connection, now: datetime, limit: int) -> list[DueTimer]:
        """Lock due timers for this transaction; timers another scheduler holds are skipped."""
        rows = await conn.fetch(
            f"SELECT id, application_id, kind, due_at, target FROM {self.table}"
            " WHERE fired_at IS NULL AND cancelled_at IS NULL AND due_at <= $1"
            " ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            now,
            limit,
        )
        return [DueTimer(r["id"], r["application_id"], r["kind"], r["due_at"], r["target"]) for r in rows]

    async def mark_fired(self, conn: asyncpg.Connection, timer_id: int, by: str) -> None:
        await conn.execute(
            f"UPDATE {self.table} SET fired_at = now(), fired_by = $2 WHERE id = $1", timer_id, by
        )

    async def postpone_after_failure(
        self, conn: asyncpg.Connection, timer_id: int, error: str, max_backoff_s: float
    ) -> None:
        """Count a failed firing and try again later (exponential back-off, capped)."""
        await conn.execute(
            f"UPDATE {self.table} SET attempts = attempts + 1, last_error = $2,"
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
