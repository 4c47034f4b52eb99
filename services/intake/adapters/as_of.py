"""An application as it stood at a past moment (`qyzmet status APPLICATION --as-of`): its stream
folded by the status projection's own code (`status_rows`), up to that moment.

The stream holds intake's own events (recorded by intake at `recorded_at`) and the steps other
services recorded (`CaseProgressRecorded`: the decision, the complaint, the notification, at the
time that service recorded it, `occurred_at`). An event counts if it happened at or before the
moment by the clock of the service that recorded it; what intake learnt later about a step that
happened earlier counts too (the view shows when things happened, not when intake heard).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg

from services.intake.adapters import status_rows
from services.intake.adapters.status_rows import PROGRESS, HistoryEntry, Row
from services.intake.domain.application import stream_id
from shared.eventstore import EventStore, StoredEvent


def happened_at(stored: StoredEvent) -> datetime:
    """When the event happened, by the clock of the service that recorded it."""
    if stored.event_type == PROGRESS:
        return datetime.fromisoformat(status_rows.event_data(stored)["occurred_at"])
    return stored.recorded_at


def fold_as_of(events: list[StoredEvent], moment: datetime) -> dict[str, Any] | None:
    """The status row and its history built from the events that happened by `moment`."""
    rows: dict[str, Row | None] = {}
    history: list[HistoryEntry] = []
    for stored in events:
        if happened_at(stored) > moment:
            continue
        entry = status_rows.apply(rows, stored)
        if entry is not None:
            history.append(entry)
    row = next((r for r in rows.values() if r is not None), None)
    if row is None:
        return None
    names = status_rows.HISTORY_COLUMNS
    return {**row, "history": [dict(zip(names, entry, strict=True)) for entry in history]}


async def status_as_of(
    pool: asyncpg.Pool, schema: str, application_id: str, moment: datetime
) -> dict[str, Any] | None:
    """The application's status view at `moment`; None if it had not been submitted by then."""
    async with pool.acquire() as conn:
        events = await EventStore(schema).load(conn, stream_id(str(uuid.UUID(application_id))))
    return fold_as_of(events, moment)
