"""The gap-safe read of the event store (`EventStore.read_committed`), optionally restricted to
some streams: what a filtered replay reads."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from shared.eventstore import EventStore, GlobalCursor, StoredEvent

_OF_STREAMS = (
    "SELECT e.position, e.txid::text::bigint AS txid, e.stream_id, e.version, e.event_id, e.event_type,"
    " e.schema_version, e.data, e.metadata, e.recorded_at FROM {table} e"
    " WHERE (e.txid, e.position) > ($1::text::xid8, $2)"
    " AND e.txid < pg_snapshot_xmin(pg_current_snapshot())"
    " AND e.stream_id = ANY($4::text[])"
    " ORDER BY e.txid, e.position LIMIT $3"
)


async def read_committed(
    conn: asyncpg.Connection,
    store: EventStore,
    after: GlobalCursor,
    limit: int,
    streams: Sequence[str] | None = None,
) -> list[StoredEvent]:
    """`store.read_committed`, or the same page of `streams` only."""
    if streams is None:
        return await store.read_committed(conn, after, limit)
    rows = await conn.fetch(
        _OF_STREAMS.format(table=f"{store.schema}.events"),
        str(after.txid),
        after.position,
        limit,
        list(streams),
    )
    return [
        StoredEvent(
            position=row["position"],
            txid=row["txid"],
            stream_id=row["stream_id"],
            version=row["version"],
            event_id=row["event_id"],
            event_type=row["event_type"],
            schema_version=row["schema_version"],
            data=row["data"],
            metadata=row["metadata"],
            recorded_at=row["recorded_at"],
        )
        for row in rows
    ]
