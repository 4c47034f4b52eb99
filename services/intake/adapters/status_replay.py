"""The status projection rebuilt into a fresh schema (`qyzmet replay intake`): the live
projector's fold (`status_rows.fold`) over the whole store, written in bulk.

A replay is the only writer of its fresh target and is started again if it is cut short, so it
needs none of the live projector's per-batch bookkeeping (the checkpoint's row lock, a
transaction per batch). It reads the store's gap-safe pages on one connection, the next page
while it folds the current one, of each event only what the fold reads (`status_read`), and
writes on another while it folds: the history by COPY in large batches, a row when it leaves the
row cache (at most `cache_rows` rows in memory) or at the end, with the checkpoint where the
replay stopped; a row's first write is a COPY too, a later one an upsert. A row that left the cache is brought
back when a later event needs it: from memory until its write commits, then from the target on
a third connection (the fold never waits for a write to finish). The target's indexes but the
rows' primary key are built after the load (`indexes_built_after`), and the garbage collector
does not walk the cache at every collection meanwhile (`automatic_collection_paused`).

A large replay splits (`run_split`, `shared.replay.partitions`): a process per partition of the
applications runs `run_partition`, all up to one last event; this process drops and builds the
indexes and writes the checkpoint.

1,000,000 events (bench/replay_bench.py), one process: 15.3-15.9 s of Python CPU and 6.5-8.3 s
of PostgreSQL's (23.0 s and 14.3 s with whole payloads decoded and rows upserted from JSON);
with pages of 40,000 events instead of 5,000 (fewer and larger writes, each COPY asks for the
table's columns first) and the fold's step look-ups, ~12 s. Split in two on 2 cores: 9.3-9.8 s
of wall time (102-107k events/s), 11.0-11.6 s of Python CPU in all, each process's peak RSS
~320 MB (two pages of rows and its row cache).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from operator import itemgetter
from typing import Any

import asyncpg

from services.intake.adapters.projection import PROJECTION, rows_sql, upsert_sql
from services.intake.adapters.status_read import applications_of, fold_columns, fold_page
from services.intake.adapters.status_rows import COLUMNS, HISTORY_COLUMNS, HistoryEntry, Row
from shared.db.identifiers import checked_identifier
from shared.eventstore import EventStore, GlobalCursor
from shared.replay.bulk import binary_json, indexes_built_after
from shared.replay.partitions import PartitionJob, Worker, partition_pool, plan, run_in_processes
from shared.replay.reading import pages_read_ahead
from shared.replay.selection import count_events
from shared.replay.spec import Parallel, Progress
from shared.runtime.event_loop import install_event_loop
from shared.runtime.heap import automatic_collection_paused

_TABLES = ("applications", "application_history")
_KEPT = ("applications_pkey",)
"""What the replay itself needs: a row that left the cache is found, and written again, by it."""


PAGE = 40_000
"""Events per gap-safe page read (5,000 to 80,000 measured: larger pages write in fewer,
larger batches; past 40,000 no faster, only more memory)."""
CACHE_ROWS = 20_000
"""Rows a replay (each process of a split one) keeps in memory (written when they leave, or at the
end), or those of its last page if that touched more."""

_in_columns = itemgetter(*COLUMNS)
"""A row's values in the order of `COLUMNS` (as COPY takes them)."""


class TargetNotFresh(RuntimeError):
    """The target already holds status rows: a bulk replay writes only into a fresh schema."""


class StatusReplay:
    """Rebuild the status rows of `source`'s event store (the `streams`, None: all) into the
    fresh schema `target`; `run` returns how many events it replayed."""

    def __init__(
        self,
        source: str,
        target: str,
        *,
        page: int = PAGE,
        cache_rows: int = CACHE_ROWS,
        history_rows: int = 20_000,
    ) -> None:
        self.store = EventStore(source)
        self.target = checked_identifier(target)
        self.page = page
        self.cache_rows = cache_rows
        self.history_rows = history_rows
        self._cache: OrderedDict[str, Row | None] = OrderedDict()
        """The rows the last events touched, least recently touched first (absent: no row, or it
        left the cache)."""
        self._history: list[HistoryEntry] = []
        self._leaving: dict[str, Row] = {}
        """Rows that left the cache since the last write began."""
        self._unwritten: dict[str, Row] = {}
        """Rows that left the cache and whose write has not committed yet."""
        self._written: set[str] = set()
        """Applications whose row is in the target, or is being written there: a row that leaves
        the cache again is updated, a new one copied; an application missing from the cache is
        looked for only if it is here or in `_unwritten` (else it has no row yet)."""
        self._writing: asyncio.Future[None] | None = None
        self._upsert = upsert_sql(self.target)
        self._rows = rows_sql(self.target)

    async def run(self, pool: asyncpg.Pool, streams: Sequence[str] | None, progress: Progress) -> int:
        async with pool.acquire() as reader, pool.acquire() as writer, pool.acquire() as lookup:
            await self._refuse_unless_fresh(writer)
            expected = await count_events(reader, self.store.schema, streams)
            pages = pages_read_ahead(reader, self.store, self.page, expected, streams, columns=fold_columns())
            async with indexes_built_after(writer, self.target, _TABLES, keep=_KEPT):
                return await self._replay(writer, lookup, pages, progress, checkpoint=True)

    async def run_split(
        self,
        pool: asyncpg.Pool,
        streams: Sequence[str] | None,
        progress: Progress,
        parallel: Parallel,
        worker: Worker,
    ) -> int:
        """`run`, split into `parallel.workers` processes (`shared.replay.partitions`) each
        running `worker` (which calls `run_partition`) on its partition, if the store has
        `parallel.min_events` events or more; the checkpoint after the last event they all read."""
        async with pool.acquire() as conn:
            await self._refuse_unless_fresh(conn)
            planned = await plan(conn, self.store.schema, streams, parallel)
            if planned.until is not None and planned.enough:
                sizes = {"page": self.page, "cache_rows": self.cache_rows, "history_rows": self.history_rows}
                jobs = planned.jobs(parallel, self.store.schema, self.target, streams, sizes)
                async with indexes_built_after(conn, self.target, _TABLES, keep=_KEPT, pool=pool):
                    replayed = await run_in_processes(worker, jobs, progress)
                await self._checkpoint(conn, planned.until)
                return sum(replayed)
        return await self.run(pool, streams, progress)

    async def run_partition(self, pool: asyncpg.Pool, job: PartitionJob, progress: Progress) -> int:
        """One partition of `run_split`, in its own process: its rows and history (no checkpoint,
        the target's indexes dropped and built again by the caller)."""
        async with pool.acquire() as reader, pool.acquire() as writer, pool.acquire() as lookup:
            pages = pages_read_ahead(
                reader, self.store, self.page, 0, job.streams, columns=fold_columns(),
                until=job.until, partition=job.partition,
            )  # fmt: skip
            return await self._replay(writer, lookup, pages, progress, checkpoint=False)

    async def _refuse_unless_fresh(self, conn: asyncpg.Connection) -> None:
        if await conn.fetchval(f"SELECT EXISTS (SELECT FROM {self.target}.applications)"):
            raise TargetNotFresh(f"{self.target}.applications is not empty")

    async def _replay(
        self,
        writer: asyncpg.Connection,
        lookup: asyncpg.Connection,
        pages: AsyncGenerator[list[asyncpg.Record], None],
        progress: Progress,
        *,
        checkpoint: bool,
    ) -> int:
        """Fold `pages` and write what they make; the checkpoint after the last event if asked."""
        total, last = 0, None
        try:
            async with binary_json(writer):
                with automatic_collection_paused():  # the last write too: it would walk the cache
                    async with aclosing(pages):
                        async for events in pages:
                            await self._fold(writer, lookup, events)
                            total, last = total + len(events), events[-1]
                            progress(len(events))
                    at = GlobalCursor() if last is None else GlobalCursor(last["txid"], last["position"])
                    await self._finish(writer, at if checkpoint else None)
        finally:
            if self._writing is not None and not self._writing.done():
                self._writing.cancel()
                await asyncio.wait([self._writing])
        return total

    async def _fold(
        self, writer: asyncpg.Connection, lookup: asyncpg.Connection, page: list[asyncpg.Record]
    ) -> None:
        cache, written, unwritten = self._cache, self._written, self._unwritten
        upcast: dict[int, dict[str, Any]] = {}
        apps = applications_of(page, upcast)
        missing, touched = [], set(apps)
        for app in touched:  # the page's rows: the most recently touched
            if app in cache:
                cache.move_to_end(app)
            elif app in written or app in unwritten:
                missing.append(app)
        if missing:
            await self._load(lookup, missing)
        fold_page(cache, page, apps, upcast, self._history)
        # least recently touched first, never a row of this page (it may be touched again next)
        while len(cache) > max(self.cache_rows, len(touched)):
            app, row = cache.popitem(last=False)
            if row is not None:
                self._leaving[app] = self._unwritten[app] = row
        if len(self._history) >= self.history_rows or self._leaving:
            await self._start_write(writer)

    async def _load(self, lookup: asyncpg.Connection, missing: list[str]) -> None:
        """Bring back the rows of `missing` that left the cache: from memory while their write
        has not committed (a copy: the write may still be encoding the row), else from the
        target, where it has (`lookup` is neither the reader nor the writer, so no wait)."""
        cache, stored = self._cache, []
        for app in missing:
            row = self._unwritten.get(app)
            if row is None:
                stored.append(app)
            else:
                cache[app] = dict(row)
        if stored:
            for row in await lookup.fetch(self._rows, stored):
                cache[str(row["application_id"])] = dict(row)

    async def _start_write(self, writer: asyncpg.Connection) -> None:
        """Write what is pending while the next page is folded (one write at a time)."""
        if self._writing is not None:
            await self._writing
        rows, history = self._leaving, self._history
        self._leaving, self._history = {}, []
        self._writing = asyncio.ensure_future(self._write(writer, rows, history))

    async def _write(
        self, conn: asyncpg.Connection, rows: dict[str, Row], history: list[HistoryEntry]
    ) -> None:
        if rows:
            written = self._written
            new = [_in_columns(row) for app, row in rows.items() if app not in written]
            again = [row for app, row in rows.items() if app in written]
            written.update(rows)
            if new:
                await conn.copy_records_to_table(
                    "applications", schema_name=self.target, columns=COLUMNS, records=new
                )
            if again:
                await conn.execute(self._upsert, again)
            for app, row in rows.items():  # committed: a lookup finds it in the target now
                if self._unwritten.get(app) is row:
                    del self._unwritten[app]
        if history:  # a fresh target, each event read once: no entry can be there already
            await conn.copy_records_to_table(
                "application_history", schema_name=self.target, columns=HISTORY_COLUMNS, records=history
            )

    async def _finish(self, writer: asyncpg.Connection, checkpoint: GlobalCursor | None) -> None:
        """The rows still held and the history, and the `checkpoint` if given, in one transaction."""
        if self._writing is not None:
            await self._writing
        self._leaving.update((app, row) for app, row in self._cache.items() if row is not None)
        self._cache.clear()
        async with writer.transaction():
            await self._write(writer, self._leaving, self._history)
            if checkpoint is not None:
                await self._checkpoint(writer, checkpoint)
        self._leaving, self._history, self._unwritten = {}, [], {}

    async def _checkpoint(self, conn: asyncpg.Connection, at: GlobalCursor) -> None:
        await conn.execute(
            f"INSERT INTO {self.target}.projection_checkpoints (projection, txid, position)"
            " VALUES ($1, $2::text::xid8, $3) ON CONFLICT (projection) DO UPDATE"
            " SET txid = excluded.txid, position = excluded.position, updated_at = now()",
            PROJECTION,
            str(at.txid),
            at.position,
        )


def replay_partition(job: PartitionJob, progress: Progress) -> int:
    """`StatusReplay.run_partition` in a process of its own (`run_split`'s worker). Here, not
    beside the projection's spec: a spawned process imports the module of the function it runs,
    and this one needs half of what the service's projections module loads."""

    async def run() -> int:
        async with partition_pool(job) as pool:
            replay = StatusReplay(job.source, job.target, **job.settings)
            return await replay.run_partition(pool, job, progress)

    install_event_loop()
    return asyncio.run(run())
