"""The event store next to its peer, the `eventsourcing` library (issue 14), and next to raw COPY.

Same PostgreSQL, same events, same run. Three rounds, each in fresh schemas, alternating which
store goes first (the batched appends take turns every 5,000 events, reads and projections every
5 pages); every figure is the median of the three. Measured per store:
  * batched append: 50,000 events, 100 per call (20 streams of 5 events);
  * concurrent single appends: 8 writers, one event per call at the stream's expected version
    (throughput and p99 latency);
  * global read in commit order, 1,000 per page, every payload decoded from JSON;
  * a projection rebuilt from the log in the same order: per stream its event count and last
    sequence number, one upsert and one checkpoint per page, atomically (the peer: a transaction
    with its tracking record, as its documentation shows; ours: one statement, the checkpoint
    table being in the same schema, committed without waiting for the WAL flush (derived data),
    while the next page is read on a second connection). Each side reads what its projections
    get: the peer's notifications (id, stream, version, topic, payload), ours the store's payload
    read (`read_committed_payloads`: place, stream, version, type, schema version, payload; the
    global read above also gives each event's metadata and time).
The batched append is also compared with `COPY` of the same rows into a table like the log.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from bench.eventsourcing_peer import WRITERS, Event, Peer
from bench.rows import ratio_row
from shared.db.pool import create_pool
from shared.eventstore import EventStore, GlobalCursor, NewEvent, apply_migrations, cursor_of
from shared.eventstore.event_ids import new_event_id

EVENTS = 50_000
BATCH = 100
STREAM_SIZE = 5
PAGE = 1_000
CHUNK = 5_000  # batched appends take turns every CHUNK events
PAGES_PER_TURN = 5  # reads and projections take turns every 5 pages
SINGLE_APPENDS = 300  # per writer
ROUNDS = 3

Row = dict[str, Any]


def _data(i: int) -> dict[str, Any]:
    return {"application_id": f"app-{i // STREAM_SIZE}", "office": "karaganda-01", "seq": i, "note": "x" * 64}


def batched_events() -> list[Event]:
    return [
        (f"app-{i // STREAM_SIZE}", i % STREAM_SIZE + 1, "bench.happened", _data(i)) for i in range(EVENTS)
    ]


def concurrent_events() -> list[list[Event]]:
    """Per writer: ten streams of its own, appended round-robin, each event at the next version."""
    return [
        [(f"w{w}-s{i % 10}", i // 10 + 1, "bench.happened", _data(i)) for i in range(SINGLE_APPENDS)]
        for w in range(WRITERS)
    ]


class Ours:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self.pool, self.schema, self.store = pool, schema, EventStore(schema)

    async def setup(self) -> None:
        async with self.pool.acquire() as conn:
            await apply_migrations(conn, self.schema)
            await conn.execute(
                f"CREATE TABLE {self.schema}.bench_view"
                " (stream_id text PRIMARY KEY, events integer NOT NULL, last_seq integer NOT NULL)"
            )

    async def append_batches(self, events: Sequence[Event], batch: int) -> float:
        started = time.perf_counter()
        async with self.pool.acquire() as conn:
            for start in range(0, len(events), batch):
                streams: dict[str, list[NewEvent]] = {}
                for stream, _, topic, data in events[start : start + batch]:
                    streams.setdefault(stream, []).append(NewEvent(topic, data))
                await self.store.append_batch(conn, list(streams.items()))
        return time.perf_counter() - started

    async def concurrent_appends(self, writes: Sequence[Sequence[Event]]) -> tuple[float, list[float]]:
        latencies: list[float] = []

        async def writer(events: Sequence[Event]) -> None:
            async with self.pool.acquire() as conn:
                for stream, version, topic, data in events:
                    began = time.perf_counter()
                    await self.store.append(conn, stream, [NewEvent(topic, data)], version - 1)
                    latencies.append(time.perf_counter() - began)

        started = time.perf_counter()
        await asyncio.gather(*(writer(events) for events in writes))
        return time.perf_counter() - started, latencies

    async def wait_visible(self) -> None:
        """Until a gap-safe reader sees every event (on a shared server another session's open
        transaction holds the read back; the peer's reader does not wait, and may skip events)."""
        async with self.pool.acquire() as conn:
            for _ in range(6000):
                if await conn.fetchval(
                    "SELECT coalesce(pg_snapshot_xmin(pg_current_snapshot()) > max(txid), true)"
                    f" FROM {self.schema}.events"
                ):
                    return
                await asyncio.sleep(0.01)

    async def read_pages(
        self, cursor: GlobalCursor, pages: int, page: int
    ) -> tuple[float, int, GlobalCursor]:
        started, total = time.perf_counter(), 0
        async with self.pool.acquire() as conn:
            for _ in range(pages):
                if not (events := await self.store.read_committed(conn, cursor, page)):
                    break
                total += len(events)
                cursor = cursor_of(events[-1])
        return time.perf_counter() - started, total, cursor

    async def project_pages(
        self, cursor: GlobalCursor, pages: int, page: int
    ) -> tuple[float, int, GlobalCursor]:
        """Up to `pages` pages: the next page is read on one connection while this one is folded
        and written on another.

        A projection is derived data: its writes commit without waiting for the WAL flush
        (`synchronous_commit = off`); a crash loses at most the last pages, view and checkpoint
        together, and the rebuild goes on from the checkpoint. The events stay durable.
        """
        started, total = time.perf_counter(), 0
        async with self.pool.acquire() as reader, self.pool.acquire() as writer:
            await writer.execute("SET synchronous_commit = off")
            read = self.store.read_committed_payloads
            events = await read(reader, cursor, page)
            for left in range(pages - 1, -1, -1):
                if not events:
                    break
                cursor = cursor_of(events[-1])
                ahead = asyncio.create_task(read(reader, cursor, page)) if left else None
                await asyncio.sleep(0)  # let the read go out before folding
                view: dict[str, tuple[int, int]] = {}
                for e in events:
                    count, _ = view.get(e.stream_id, (0, 0))
                    view[e.stream_id] = (count + 1, e.data["seq"])
                await writer.execute(  # the view and its checkpoint in one statement: atomic
                    f"WITH v AS (INSERT INTO {self.schema}.bench_view AS v (stream_id, events, last_seq)"
                    " SELECT * FROM unnest($1::text[], $2::int[], $3::int[])"
                    " ON CONFLICT (stream_id) DO UPDATE"
                    " SET events = v.events + excluded.events, last_seq = excluded.last_seq)"
                    f" INSERT INTO {self.schema}.projection_checkpoints (projection, txid, position)"
                    " VALUES ('bench', $4::text::xid8, $5) ON CONFLICT (projection) DO UPDATE"
                    " SET txid = excluded.txid, position = excluded.position, updated_at = now()",
                    list(view),
                    [c for c, _ in view.values()],
                    [s for _, s in view.values()],
                    str(cursor.txid),
                    cursor.position,
                )
                total += len(events)
                events = await ahead if ahead else []
            await writer.execute("RESET synchronous_commit")
        return time.perf_counter() - started, total, cursor


class RawCopy:
    """COPY of the same rows, `batch` per call, into a table like the log, on a plain connection."""

    def __init__(self, conn: asyncpg.Connection, schema: str) -> None:
        self.conn, self.schema = conn, schema

    async def setup(self) -> None:
        await self.conn.execute(
            f"CREATE TABLE {self.schema}.raw_events (LIKE {self.schema}.events INCLUDING ALL)"
        )

    async def append_batches(self, events: Sequence[Event], batch: int) -> float:
        columns = ["stream_id", "version", "event_id", "event_type", "schema_version", "data", "metadata"]
        started = time.perf_counter()
        for start in range(0, len(events), batch):
            records = [
                (stream, version, new_event_id(), topic, 1, json.dumps(data), "{}")
                for stream, version, topic, data in events[start : start + batch]
            ]
            await self.conn.copy_records_to_table(
                "raw_events", schema_name=self.schema, records=records, columns=columns
            )
        return time.perf_counter() - started


async def _round(n: int, database_url: str, pool: asyncpg.Pool, figures: dict[str, list[float]]) -> None:
    """One round in fresh schemas. The batched appends of ours, the peer and COPY take turns every
    CHUNK events, reads and projections every PAGES_PER_TURN pages (so that the machine's noise
    falls on all alike); the concurrent appends run ours then the peer, or the peer then ours, as
    the round's number says."""
    schema = f"bench_es_{uuid.uuid4().hex[:8]}"
    ours = Ours(pool, schema)
    await ours.setup()
    peer = await asyncio.to_thread(Peer.create, database_url, f"bench_peer_{uuid.uuid4().hex[:8]}")
    plain = await asyncpg.connect(database_url)
    copy = RawCopy(plain, schema)
    await copy.setup()
    try:
        events = batched_events()
        spent = {"ours": 0.0, "peer": 0.0, "copy": 0.0}
        for i, start in enumerate(range(0, EVENTS, CHUNK)):
            chunk = events[start : start + CHUNK]
            for who in _turns(("ours", "peer", "copy"), n + i):
                if who == "peer":
                    spent[who] += await asyncio.to_thread(peer.append_batches, chunk, BATCH)
                else:
                    spent[who] += await (ours if who == "ours" else copy).append_batches(chunk, BATCH)
        figures["ours_append"].append(EVENTS / spent["ours"])
        figures["peer_append"].append(EVENTS / spent["peer"])
        figures["copy"].append(EVENTS / spent["copy"])
        await ours.wait_visible()
        for phase in ("read", "projection"):
            seconds, counts = {"ours": 0.0, "peer": 0.0}, {"ours": 0, "peer": 0}
            place: dict[str, Any] = {"ours": GlobalCursor(), "peer": 1}
            for i in range(EVENTS // (PAGE * PAGES_PER_TURN) + 1):
                for who in _turns(("ours", "peer"), n + i):
                    side: Any = ours if who == "ours" else _Threaded(peer)
                    turn = side.read_pages if phase == "read" else side.project_pages
                    spent, count, place[who] = await turn(place[who], PAGES_PER_TURN, PAGE)
                    seconds[who] += spent
                    counts[who] += count
            for who in ("ours", "peer"):
                assert counts[who] == EVENTS, (phase, who, counts[who])
                figures[f"{who}_{phase}"].append(EVENTS / seconds[who])
        for who in _turns(("ours", "peer"), n):
            side = ours if who == "ours" else _Threaded(peer)
            seconds, latencies = await side.concurrent_appends(concurrent_events())
            figures[f"{who}_concurrent"].append(len(latencies) / seconds)
            figures[f"{who}_p99_ms"].append(_p99(latencies) * 1000)
    finally:
        await plain.close()
        await asyncio.to_thread(peer.close)
        async with pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def _turns(sides: tuple[str, ...], n: int) -> list[str]:
    k = n % len(sides)
    return list(sides[k:] + sides[:k])


class _Threaded:
    """The peer's blocking calls, each in a worker thread (the event loop stays free)."""

    def __init__(self, peer: Peer) -> None:
        self.peer = peer

    async def read_pages(self, start: int, pages: int, page: int) -> tuple[float, int, int]:
        return await asyncio.to_thread(self.peer.read_pages, start, pages, page)

    async def project_pages(self, start: int, pages: int, page: int) -> tuple[float, int, int]:
        return await asyncio.to_thread(self.peer.project_pages, start, pages, page)

    async def concurrent_appends(self, writes: Sequence[Sequence[Event]]) -> tuple[float, list[float]]:
        return await asyncio.to_thread(self.peer.concurrent_appends, writes)


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


async def run(database_url: str, bootstrap_servers: str) -> list[Row]:
    figures: dict[str, list[float]] = {}
    for key in ("append", "read", "projection", "concurrent", "p99_ms"):
        figures[f"ours_{key}"], figures[f"peer_{key}"] = [], []
    figures["copy"] = []
    pool = await create_pool(database_url, min_size=WRITERS, max_size=WRITERS)
    try:
        for n in range(ROUNDS):
            await _round(n, database_url, pool, figures)
    finally:
        await pool.close()
    m = {key: statistics.median(values) for key, values in figures.items()}
    rounds = {key: [round(v, 1) for v in values] for key, values in figures.items()}
    return [
        ratio_row("es_vs_peer_batched_append", m["ours_append"], m["peer_append"], "events/s", 2.0),
        ratio_row("es_batched_append_vs_raw_copy", m["ours_append"], m["copy"], "events/s", 0.7),
        ratio_row(
            "es_vs_peer_concurrent_appends",
            m["ours_concurrent"],
            m["peer_concurrent"],
            "appends/s",
            3.0,
            p99_ms=round(m["ours_p99_ms"], 2),
            peer_p99_ms=round(m["peer_p99_ms"], 2),
        ),
        ratio_row("es_vs_peer_global_read", m["ours_read"], m["peer_read"], "events/s", 1.0),
        ratio_row(
            "es_vs_peer_projection_rebuild", m["ours_projection"], m["peer_projection"], "events/s", 2.0
        ),
        {"name": "es_vs_peer_rounds", "value": ROUNDS, "unit": "rounds", "rounds": rounds},
    ]
