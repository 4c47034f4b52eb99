"""The gap-safe read of the event store (`EventStore.read_committed`), optionally restricted to
some streams: what a filtered replay reads."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence

import asyncpg

from shared.eventstore import EventStore, GlobalCursor, StoredEvent
from shared.eventstore.statements import COLUMNS

_OF_STREAMS = (
    f"SELECT {COLUMNS} FROM {{table}} e"
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
    return [StoredEvent._make(row) for row in rows]  # `COLUMNS` lists the fields in order


class ReplayStalled(RuntimeError):
    """The gap-safe reader could not reach every stored event in time: a transaction older than
    them is still running somewhere in the cluster (events behind it are not read until it ends)."""


async def read_all(
    page: Callable[[], Awaitable[int]],
    expected: int,
    progress: Callable[[int], None],
    patience_s: float = 300.0,
) -> int:
    """Call `page()` (project one page, return how many events it read) until `expected` events
    were read. An empty page before that means an older transaction is still running: wait for it
    (the gap-safe reader never skips an event), up to `patience_s` without progress."""
    total = 0
    waited_since: float | None = None
    while total < expected:
        read = await page()
        if read:
            total += read
            progress(read)
            waited_since = None
            continue
        now = time.monotonic()
        waited_since = waited_since or now
        if now - waited_since > patience_s:
            raise ReplayStalled(
                f"{expected - total} of {expected} events not readable after {patience_s:.0f} s:"
                " a transaction older than them is still running"
            )
        await asyncio.sleep(0.1)
    while read := await page():  # anything stored since the count
        total += read
        progress(read)
    return total
