"""A service's timer table: timers are written with the events that set them (in the command's
unit of work), leased for firing in a short transaction of their own (`FOR UPDATE SKIP LOCKED`,
so two schedulers never lease one timer at once), and marked fired in the unit of work that
appends their events, only if nobody fired or cancelled them meanwhile.

The table (created by the service's migration) has the columns `id`, `<key column>`, `kind`,
`due_at`, `target`, `fired_at`, `fired_by`, `cancelled_at`, `leased_until`, `leased_by`,
`attempts`, `last_error`, and a unique key (`<key column>`, `kind`, `target`): `target` is the
instant the timer stands for (a deadline), `due_at` when it fires (moved by back-off).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from shared.db.identifiers import checked_identifier


@dataclass(frozen=True)
class DueTimer:
    id: int
    key: str
    """The stream the timer belongs to (an application id, a complaint id)."""
    kind: str
    due_at: datetime
    target: datetime


class TimerTable:
    def __init__(self, schema: str, key_column: str) -> None:
        self.schema = checked_identifier(schema)
        self.table = f"{self.schema}.timers"
        self.key = checked_identifier(key_column)

    async def schedule(
        self, conn: asyncpg.Connection, key: str, kind: str, due_at: datetime, target: datetime | None = None
    ) -> None:
        """Set a timer (`target` defaults to `due_at`); setting it again moves it and revives a
        cancelled one, never a fired one."""
        await conn.execute(
            f"INSERT INTO {self.table} ({self.key}, kind, due_at, target) VALUES ($1, $2, $3, $4)"
            f" ON CONFLICT ({self.key}, kind, target) DO UPDATE SET due_at = excluded.due_at,"
            f" cancelled_at = NULL WHERE {self.table}.fired_at IS NULL",
            key,
            kind,
            due_at,
            target or due_at,
        )

    async def cancel(self, conn: asyncpg.Connection, key: str, kinds: Iterable[str] | None = None) -> None:
        """Cancel the stream's pending timers (of `kinds`, or all)."""
        if kinds is None:
            await conn.execute(
                f"UPDATE {self.table} SET cancelled_at = now() WHERE {self.key} = $1"
                " AND fired_at IS NULL AND cancelled_at IS NULL",
                key,
            )
            return
        await conn.execute(
            f"UPDATE {self.table} SET cancelled_at = now() WHERE {self.key} = $1"
            " AND kind = ANY($2::text[]) AND fired_at IS NULL AND cancelled_at IS NULL",
            key,
            sorted(kinds),
        )

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
            f" RETURNING id, {self.key} AS key, kind, due_at, target",
            now,
            limit,
            worker,
            lease_s,
        )
        due = [DueTimer(r["id"], str(r["key"]), r["kind"], r["due_at"], r["target"]) for r in rows]
        return sorted(due, key=lambda t: (t.due_at, t.id))

    async def count_due(self, conn: asyncpg.Connection, now: datetime) -> int:
        """Timers past their firing time and neither fired nor cancelled (leased ones included)."""
        found: int = await conn.fetchval(
            f"SELECT count(*) FROM {self.table} WHERE fired_at IS NULL AND cancelled_at IS NULL"
            " AND due_at <= $1",
            now,
        )
        return found

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

    async def pending(self, conn: asyncpg.Connection, key: str) -> list[asyncpg.Record]:
        """The stream's timers still to fire (kind, due_at, target), soonest first."""
        rows: list[asyncpg.Record] = await conn.fetch(
            f"SELECT kind, due_at, target FROM {self.table} WHERE {self.key} = $1"
            " AND fired_at IS NULL AND cancelled_at IS NULL ORDER BY due_at",
            key,
        )
        return rows
