"""The complaints projection (one row per complaint, no personal data: neither the complainant,
nor the text, nor the reviewer's reasoning - those are read from the stream, audited), written in the unit of
work of the command that appended the events, and rebuilt from the event store by
`qyzmet replay complaints.complaints`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import asyncpg

from shared.contracts.complaints import (
    ComplaintEscalated,
    ComplaintRegistered,
    ComplaintResolved,
    ComplaintReviewDeadlineApproaching,
    ComplaintReviewDeadlineBreached,
    ComplaintReviewExtended,
)
from shared.contracts.event import DomainEvent
from shared.db.identifiers import checked_identifier
from shared.eventstore import EventStore, GlobalCursor
from shared.eventstore.store import cursor_of
from shared.replay.reading import read_all, read_committed
from shared.replay.selection import count_events

COLUMNS = (
    "complaint_id, registration_number, subject, application_id, service_id, office_id, region, officer,"
    " channel, registered_at_office, registered_by, registered_at, reviewing_body, reviewing_office,"
    " review_due_on, review_due_at, extended, approaching, breached, status, outcome,"
    " reviewed_by, resolved_at, on_time, reopen_case, escalations, version"
)


class ComplaintRows:
    def __init__(self, schema: str) -> None:
        self.table = f"{checked_identifier(schema)}.complaints"

    async def apply(self, conn: asyncpg.Connection, event: DomainEvent, version: int) -> None:
        if isinstance(event, ComplaintRegistered):
            await conn.execute(
                f"INSERT INTO {self.table} (complaint_id, registration_number, subject, application_id,"
                " service_id, office_id, region, officer, channel, registered_at_office, registered_by,"
                " registered_at, reviewing_body, reviewing_office, review_due_on, review_due_at, status,"
                " version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,"
                " 'registered', $17) ON CONFLICT (complaint_id) DO NOTHING",
                event.complaint_id, event.registration_number, event.subject, event.application_id,
                event.service_id, event.office_id, event.region, event.officer, event.channel,
                event.registered_at_office, event.registered_by, event.registered_at, event.reviewing_body,
                event.reviewing_office, event.review_due_on, event.review_due_at, version,
            )  # fmt: skip
            return
        sets, args = _changes(event)
        if not sets:
            return
        await conn.execute(
            f"UPDATE {self.table} SET {', '.join(sets)}, version = ${len(args) + 2}, updated_at = now()"
            f" WHERE complaint_id = $1 AND version < ${len(args) + 2}",
            event.complaint_id,  # type: ignore[attr-defined]
            *args,
            version,
        )


def _changes(event: DomainEvent) -> tuple[list[str], list[Any]]:
    if isinstance(event, ComplaintReviewExtended):
        return ["extended = true", "review_due_on = $2", "review_due_at = $3", "approaching = false"], [
            event.review_due_on,
            event.review_due_at,
        ]
    if isinstance(event, ComplaintReviewDeadlineApproaching):
        return ["approaching = true"], []
    if isinstance(event, ComplaintReviewDeadlineBreached):
        return ["breached = true"], []
    if isinstance(event, ComplaintResolved):
        return [
            "status = 'resolved'", "outcome = $2", "reviewed_by = $3",
            "resolved_at = $4", "on_time = $5", "reopen_case = $6",
        ], [event.outcome, event.reviewed_by, event.resolved_at, event.on_time,
            event.reopen_case]  # fmt: skip
    if isinstance(event, ComplaintEscalated):
        entry = {"to": event.to, "body": event.body, "recorded_by": event.recorded_by,
                 "recorded_at": event.recorded_at.isoformat(), "note": event.note}  # fmt: skip
        return ["escalations = escalations || $2::jsonb"], [[entry]]
    return [], []


async def rebuild(pool: asyncpg.Pool, schema: str) -> int:
    """Rebuild the complaints rows from the event store in place; return the events applied.
    DELETE, not TRUNCATE: the service's login role has no TRUNCATE right (`shared.db.grants`)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(f"DELETE FROM {ComplaintRows(schema).table}")
        return await _apply_all(conn, schema, schema, None, None)


async def replay_complaints(
    pool: asyncpg.Pool,
    source: str,
    target: str,
    streams: Sequence[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """The live projection's `ComplaintRows.apply` over `source`'s events, into `target`'s rows."""
    async with pool.acquire() as conn:
        return await _apply_all(conn, source, target, streams, progress)


async def _apply_all(
    conn: asyncpg.Connection,
    source: str,
    target: str,
    streams: Sequence[str] | None,
    progress: Callable[[int], None] | None,
) -> int:
    from services.complaints.adapters.repository import decode_stored

    store, rows = EventStore(source), ComplaintRows(target)
    cursor = GlobalCursor()

    async def page() -> int:
        nonlocal cursor
        batch = await read_committed(conn, store, cursor, 2000, streams)
        async with conn.transaction():
            for stored in batch:
                await rows.apply(conn, decode_stored(stored), stored.version)
        if batch:
            cursor = cursor_of(batch[-1])
        return len(batch)

    expected = await count_events(conn, source, streams)
    return await read_all(page, expected, progress or (lambda _: None))
