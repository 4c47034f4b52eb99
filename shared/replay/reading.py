"""The gap-safe read of the event store (`EventStore.read_committed`), optionally restricted to
some streams: what a filtered replay reads."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import asyncpg

from shared.eventstore import EventStore, GlobalCursor, StoredEvent, cursor_of
from shared.eventstore.statements import COLUMNS

if TYPE_CHECKING:
    from shared.replay.partitions import Partition

_PAGE = (
    "SELECT {columns} FROM {schema}.events e"
    " WHERE (e.txid, e.position) > ($1::text::xid8, $2)"
    " AND e.txid < (SELECT {schema}.event_horizon()){of_streams}{until}{partition}"
    " ORDER BY e.txid, e.position LIMIT $3"
)
"""The store's gap-safe page (`EventStore.read_committed`: below the same horizon, migration 0008),
of some streams or with other columns.
Planned here, not in the store's function (which returns whole rows: every payload copied once
more on the server). On a small table the generic plan of this statement is a scan and a sort; it
is re-planned when the table's statistics change, and a replay's processes are short-lived."""
_OF_STREAMS = " AND e.stream_id = ANY(${}::text[])"
_UNTIL = " AND (e.txid, e.position) <= (${}::text::xid8, ${})"


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
    rows = await read_committed_rows(conn, store, after, limit, COLUMNS, streams)
    return [StoredEvent._make(row) for row in rows]  # `COLUMNS` lists the fields in order


async def read_committed_rows(
    conn: asyncpg.Connection,
    store: EventStore,
    after: GlobalCursor,
    limit: int,
    columns: str,
    streams: Sequence[str] | None = None,
    until: GlobalCursor | None = None,
    partition: Partition | None = None,
) -> list[asyncpg.Record]:
    """The page `read_committed` reads, as rows of `columns` (a select list over the events
    table as `e`): what a reader needs of each event, computed by PostgreSQL. `until`: no event
    after it; `partition`: the events of its streams only."""
    args: list[Any] = [str(after.txid), after.position, limit]
    of_streams = until_sql = ""
    if streams is not None:
        args.append(list(streams))
        of_streams = _OF_STREAMS.format(len(args))
    if until is not None:
        args += [str(until.txid), until.position]
        until_sql = _UNTIL.format(len(args) - 1, len(args))
    statement = _PAGE.format(
        columns=columns,
        schema=store.schema,
        of_streams=of_streams,
        until=until_sql,
        partition="" if partition is None else partition.condition(),
    )
    rows: list[asyncpg.Record] = await conn.fetch(statement, *args)
    return rows


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
    columns: str | None = None,
    until: GlobalCursor | None = None,
    partition: Partition | None = None,
) -> AsyncGenerator[list[Any], None]:
    """The gap-safe pages `read_all` reads (every one of `expected` events, then anything stored
    since), with the next page read on `conn` while the caller works on the current one: the
    server reads as the caller projects. Pages of `StoredEvent`, or of rows of `columns`
    (`read_committed_rows`; among them `position` and `txid`, which the next page follows),
    up to `until` and of `partition`'s streams if given (rows only)."""
    if columns is None and (until is not None or partition is not None):
        raise ValueError("a read up to a cursor or of a partition reads rows of given columns")

    def read(after: GlobalCursor) -> asyncio.Future[list[Any]]:
        if columns is None:
            return asyncio.ensure_future(read_committed(conn, store, after, size, streams))
        return asyncio.ensure_future(
            read_committed_rows(conn, store, after, size, columns, streams, until, partition)
        )

    def last(page: list[Any]) -> GlobalCursor:
        row = page[-1]
        return cursor_of(row) if columns is None else GlobalCursor(row["txid"], row["position"])

    cursor, total, patience = GlobalCursor(), 0, _Patience(expected, patience_s)
    ahead = read(cursor)
    try:
        while True:
            events = await ahead
            if events:
                cursor, total = last(events), total + len(events)
                patience.progressed()
                ahead = read(cursor)
                yield events
                continue
            if total >= expected:
                return
            await patience.wait(total)
            ahead = read(cursor)
    finally:
        ahead.cancel()
        await asyncio.wait([ahead])  # the connection is free again when this returns
        if not ahead.cancelled():
            ahead.exception()  # retrieved: the caller's error is the one that counts
