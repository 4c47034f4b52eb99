"""What the applicant consumer's batch reads and writes for several recipients at once (one
statement each): their locks, the events kept for them, their rows, their registration and
decision marks. Notifications are queued with `NotificationStore.queue`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime

import asyncpg

from services.notification.adapters.notification_rows import RECIPIENT_COLUMNS, Recipient
from services.notification.adapters.repository import lock_subjects
from shared.db.identifiers import checked_identifier

_PG_TYPES = {"str": "text", "datetime": "timestamptz", "bool": "boolean"}
_RECIPIENT_FIELDS = tuple(f.name for f in fields(Recipient))
"""`Recipient`'s fields, in the order of `RECIPIENT_COLUMNS`."""
_RECIPIENT_ARRAYS = ", ".join(
    f"${i}::{_PG_TYPES[f.type.removesuffix(' | None')]}[]" for i, f in enumerate(fields(Recipient), 1)
)
"""One array parameter per column of `recipients`, typed after `Recipient`'s fields."""

Decided = tuple[str, datetime, bool]
"""(subject, decided at, result collected in person)"""


class PlanningBatchStore:
    def __init__(self, schema: str, conn: asyncpg.Connection) -> None:
        self.s = checked_identifier(schema)
        self.conn = conn

    async def lock_subjects(self, subjects: Sequence[str]) -> None:
        """`NotificationStore.lock_subject` for each subject, in a fixed order (no deadlock
        between two batches that share recipients)."""
        await lock_subjects(self.conn, self.s, subjects)

    async def kept_for(self, subjects: Sequence[str]) -> set[str]:
        """The subjects some event is kept for (`NotificationStore.defer`)."""
        rows = await self.conn.fetch(
            f"SELECT DISTINCT subject FROM {self.s}.deferred_triggers WHERE subject = ANY($1::text[])",
            list(subjects),
        )
        return {r["subject"] for r in rows}

    async def recipients(self, subjects: Sequence[str]) -> dict[str, Recipient]:
        rows = await self.conn.fetch(
            f"SELECT {RECIPIENT_COLUMNS} FROM {self.s}.recipients WHERE subject = ANY($1::text[])",
            list(subjects),
        )
        return {r["subject"]: Recipient(**dict(r)) for r in rows}

    async def register(self, recipients: Sequence[Recipient]) -> None:
        """Keep the recipients (the first registration of each stands); no events are kept for
        them (the caller checked under `lock_subjects`)."""
        if not recipients:
            return
        await self.conn.execute(
            f"INSERT INTO {self.s}.recipients ({RECIPIENT_COLUMNS}) SELECT * FROM unnest({_RECIPIENT_ARRAYS})"
            " ON CONFLICT (subject) DO NOTHING",
            *([getattr(r, name) for r in recipients] for name in _RECIPIENT_FIELDS),
        )

    async def mark_decided(self, decided: Sequence[Decided]) -> None:
        """`NotificationStore.decided`'s mark for several recipients (each at most once)."""
        if not decided:
            return
        await self.conn.execute(
            f"UPDATE {self.s}.recipients r SET decided_at = u.at, result_in_person = u.in_person"
            " FROM unnest($1::text[], $2::timestamptz[], $3::boolean[]) AS u(subject, at, in_person)"
            " WHERE r.subject = u.subject AND r.withdrawn_at IS NULL"
            " AND (r.decided_at IS NULL OR r.decided_at <= u.at)",
            [d[0] for d in decided],
            [d[1] for d in decided],
            [d[2] for d in decided],
        )
