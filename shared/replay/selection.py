"""The streams a filtered replay covers, found from each stream's first event."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from shared.db.identifiers import checked_identifier
from shared.replay.spec import Selection


async def selected_streams(
    conn: asyncpg.Connection, schema: str, selection: Selection, prefix: str
) -> list[str] | None:
    """Streams named `<prefix>…` whose first event's data names `selection.office`
    (`office_id`) and `selection.service` (`service_id`) and was recorded in the period;
    None when the selection is everything (no list to pass around)."""
    if selection.everything:
        return None
    rows = await conn.fetch(
        f"SELECT stream_id FROM {checked_identifier(schema)}.events"
        " WHERE version = 1 AND starts_with(stream_id, $1)"
        " AND ($2::text IS NULL OR data->>'office_id' = $2)"
        " AND ($3::text IS NULL OR data->>'service_id' = $3)"
        " AND ($4::timestamptz IS NULL OR recorded_at >= $4)"
        " AND ($5::timestamptz IS NULL OR recorded_at < $5)",
        prefix,
        selection.office,
        selection.service,
        selection.since,
        selection.until,
    )
    return [row["stream_id"] for row in rows]


async def count_events(conn: asyncpg.Connection, schema: str, streams: Sequence[str] | None) -> int:
    """How many events a replay of `streams` (None: all) reads: the progress bar's total."""
    table = f"{checked_identifier(schema)}.events"
    if streams is None:
        total: int = await conn.fetchval(f"SELECT count(*) FROM {table}")
    else:
        total = await conn.fetchval(
            f"SELECT count(*) FROM {table} WHERE stream_id = ANY($1::text[])", list(streams)
        )
    return total
