"""The gap-safe read of the event store (`EventStore.read_committed`), optionally restricted to
some streams: what a filtered replay reads."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence

import asyncpg

from shared.eventstore import EventStore, GlobalCursor, StoredEvent, cursor_of
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


class _Patience:
    """An empty page before every expected event was read means an older transaction is still
    running: the reader waits for it (the gap-safe reader never skips an event), up to
    `patience_s` without progress."""

    def __init__(self, expected: int, patience_s: float) -> None:
        self.expected = expected
        self.patience_s = patience_s
        self._since: float | None = None

    def progressed(self) -> None:
        self._since = None

    async def wait(self, total: int) -> None:
        now = time.monotonic()
        self._since = self._since or now
        if now - self._since > self.patience_s:
            raise ReplayStalled(
                f"{self.expected - total} of {self.expected} events not readable after"
                f" {self.patience_s:.0f} s: a transaction older than them is still running"
            )
        await asyncio.sleep(0.1)


async def read_all(
    page: Callable[[], Awaitable[int]],
    expected: int,
    progress: Callable[[int], None],
    patience_s: float = 300.0,
) -> int:
    """Call `page()` (project one page, return how many events it read) until `expected` events
    were read, waiting for an older transaction as `_Patience` says; then until a page is empty
    (anything stored since the count)."""
    total, patience = 0, _Patience(expected, patience_s)
    while total < expected:
        read = await page()
        if read:
            total += read
            progress(read)
            patience.progressed()
            continue
        await patience.wait(total)
    while read := await page():  # anything stored since the count
        total += read
        progress(read)
    return total


async def pages_read_ahead(
    conn: asyncpg.Connection,
    store: EventStore,
    size: int,
    expected: int,
    streams: Sequence[str] | None = None,
    patience_s: float = 300.0,
) -> AsyncGenerator[list[StoredEvent], None]:
    """The gap-safe pages `read_all` reads (every one of `expected` events, then anything stored
    since), with the next page read on `conn` while the caller works on the current one: the
    server reads as the caller projects."""
    cursor, total, patience = GlobalCursor(), 0, _Patience(expected, patience_s)
    ahead = asyncio.ensure_future(read_committed(conn, store, cursor, size, streams))
    try:
        while True:
            events = await ahead
            if events:
                cursor, total = cursor_of(events[-1]), total + len(events)
                patience.progressed()
                ahead = asyncio.ensure_future(read_committed(conn, store, cursor, size, streams))
                yield events
                continue
            if total >= expected:
                return
            await patience.wait(total)
            ahead = asyncio.ensure_future(read_committed(conn, store, cursor, size, streams))
    finally:
        ahead.cancel()
        await asyncio.wait([ahead])  # the connection is free again when this returns
        if not ahead.cancelled():
            ahead.exception()  # retrieved: the caller's error is the one that counts
