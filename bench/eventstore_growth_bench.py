"""Event store cost as the log grows (issue 14): append and read at 10k, 100k and 1M stored events.

One log per size, filled with filler events generated inside PostgreSQL (fast, no client round
trips). Each log is planned young, the case of the issue: with 50 events, statistics taken and
autovacuum off, every statement runs once on the ONE measuring connection, under
`plan_cache_mode = force_generic_plan`; those cached plans then serve while the log grows to its
size. A lookup planned as a sequential scan then would read the whole log on every call. The
sizes take turns operation by operation (the machine is shared and noisy: each size sees the same
noise); per size, the median time of a batched append (100 events, 20 streams of 5), of a single
append at the expected version, and of a page of the gap-safe global read (1,000 events,
decoded). The figure is largest/smallest over the sizes. `QYZMET_BENCH_GROWTH_SIZES`
(comma-separated) replaces the sizes for a quick run.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from typing import Any

import asyncpg

from shared.db.pool import connect
from shared.eventstore import EventStore, GlobalCursor, NewEvent, apply_migrations

SIZES = tuple(int(s) for s in os.environ.get("QYZMET_BENCH_GROWTH_SIZES", "10000,100000,1000000").split(","))
FILL_CHUNK = 100_000  # filler events per transaction
SMALL = 50  # statistics are taken while the log holds this many events: the plans of a young log
BATCHES = 60  # per size
SINGLES = 150
PAGES = 30  # re-read from the same cursor: the cost of a page, not of the disk
STREAMS = True  # the log has a table of stream versions (migration 0004)
_KEYS = ("append_batch_ms", "single_append_ms", "read_page_ms")
PAGE = 1_000
TARGET = 1.3

Row = dict[str, Any]


async def _fill(conn: asyncpg.Connection, schema: str, start: int, stop: int) -> None:
    """Filler streams of 5 events, `start` to `stop` (event numbers), and their stream rows."""
    for low in range(start, stop, FILL_CHUNK):
        high = min(stop, low + FILL_CHUNK)
        async with conn.transaction():
            await conn.execute(
                f"INSERT INTO {schema}.events"
                " (stream_id, version, event_id, event_type, schema_version, data)"
                " SELECT 'fill-' || (i / 5), i % 5 + 1, gen_random_uuid(), 'bench.filled', 1,"
                " jsonb_build_object('seq', i, 'office', 'karaganda-01', 'note', repeat('x', 64))"
                " FROM generate_series($1::bigint, $2::bigint - 1) AS i",
                low,
                high,
            )
            await conn.execute(
                f"INSERT INTO {schema}.streams (stream_id, version, txid)"
                " SELECT 'fill-' || k, 5, pg_current_xact_id()"
                " FROM generate_series($1::bigint, $2::bigint) AS k"
                " ON CONFLICT (stream_id) DO NOTHING",
                low // 5,
                (high - 1) // 5,
            )


async def _visible(conn: asyncpg.Connection, schema: str) -> None:
    """Wait until a gap-safe reader sees every event (another session's open transaction holds it)."""
    for _ in range(6000):
        if await conn.fetchval(
            f"SELECT coalesce(pg_snapshot_xmin(pg_current_snapshot()) > max(txid), true) FROM {schema}.events"
        ):
            return
        await asyncio.sleep(0.01)


async def _append_batch(conn: asyncpg.Connection, store: EventStore, tag: str) -> float:
    batch = [
        (f"{tag}-{s}", [NewEvent("bench.happened", {"seq": s * 5 + i}) for i in range(5)]) for s in range(20)
    ]
    began = time.perf_counter()
    await store.append_batch(conn, batch)
    return (time.perf_counter() - began) * 1000


async def _append_single(conn: asyncpg.Connection, store: EventStore, n: int) -> float:
    event = NewEvent("bench.happened", {"seq": n})
    began = time.perf_counter()
    await store.append(conn, f"single-{n % 10}", [event], n // 10)
    return (time.perf_counter() - began) * 1000


async def _read_page(conn: asyncpg.Connection, store: EventStore, cursor: GlobalCursor) -> float:
    began = time.perf_counter()
    events = await store.read_committed(conn, cursor, PAGE)
    elapsed = (time.perf_counter() - began) * 1000
    assert len(events) == PAGE, len(events)
    return elapsed


async def _read_cursor(conn: asyncpg.Connection, store: EventStore) -> GlobalCursor:
    """Where the pages are read in every log: before the newest 20k events (10k log: its start)."""
    await _visible(conn, store.schema)
    row = await conn.fetchrow(
        f"SELECT txid::text::bigint AS txid, position FROM {store.schema}.events"
        f" WHERE position <= (SELECT max(position) FROM {store.schema}.events) - 20000"
        " ORDER BY position DESC LIMIT 1"
    )
    return GlobalCursor() if row is None else GlobalCursor(row["txid"], row["position"])


async def _young(conn: asyncpg.Connection, store: EventStore) -> None:
    """Plan every statement while the log is young: statistics of SMALL events, each statement run
    once on the measuring connection (its generic plan is cached from now on), and no autovacuum
    to take new statistics (which would make PostgreSQL plan again) while the log grows."""
    for table in ("events", "streams") if STREAMS else ("events",):
        await conn.execute(f"ALTER TABLE {store.schema}.{table} SET (autovacuum_enabled = false)")
        await conn.execute(f"ANALYZE {store.schema}.{table}")
    await _append_batch(conn, store, "young")
    await store.append(conn, "young-single", [NewEvent("bench.happened", {})], 0)
    await _visible(conn, store.schema)
    await store.read_committed(conn, GlobalCursor(), PAGE)


async def _measure(conn: asyncpg.Connection, stores: dict[int, EventStore]) -> dict[int, dict[str, float]]:
    """Each operation on every log in turn, so that the machine's noise falls on all sizes alike."""
    times: dict[int, dict[str, list[float]]] = {size: {k: [] for k in _KEYS} for size in stores}
    turns = [list(stores.items())[n:] + list(stores.items())[:n] for n in range(len(stores))]
    for b in range(BATCHES):
        for size, store in turns[b % len(turns)]:
            times[size]["append_batch_ms"].append(await _append_batch(conn, store, f"b{b}"))
    for n in range(SINGLES):
        for size, store in turns[n % len(turns)]:
            times[size]["single_append_ms"].append(await _append_single(conn, store, n))
    cursors = {size: await _read_cursor(conn, store) for size, store in stores.items()}
    for p in range(PAGES):
        for size, store in turns[p % len(turns)]:
            times[size]["read_page_ms"].append(await _read_page(conn, store, cursors[size]))
    return {size: {k: statistics.median(v) for k, v in by_key.items()} for size, by_key in times.items()}


def _growth_row(name: str, key: str, by_size: dict[int, dict[str, float]]) -> Row:
    costs = {size: figures[key] for size, figures in by_size.items()}
    largest, smallest = max(costs.values()), min(costs.values())
    ratio = largest / smallest if smallest else 0.0
    return {
        "name": name,
        "value": round(largest, 3),
        "baseline": round(smallest, 3),
        "unit": "ms (max/min)",
        "ratio": round(ratio, 3),
        "target_ratio": f"<={TARGET}",
        "meets_target": ratio <= TARGET,
        "ms_by_size": {str(size): round(cost, 3) for size, cost in costs.items()},
        "largest_log_over_smallest_log": round(costs[max(costs)] / costs[min(costs)], 3),
    }


async def run(database_url: str, bootstrap_servers: str) -> list[Row]:
    run_id = uuid.uuid4().hex[:8]
    stores = {size: EventStore(f"bench_growth_{run_id}_{size}") for size in SIZES}
    conn = await connect(database_url)
    try:
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        for size, store in stores.items():
            started = time.perf_counter()
            await apply_migrations(conn, store.schema)
            await _fill(conn, store.schema, 0, SMALL)
            await _young(conn, store)
            await _fill(conn, store.schema, SMALL, size)
            print(f"  growth: {size} events stored in {time.perf_counter() - started:.1f}s", flush=True)
        by_size = await _measure(conn, stores)
    finally:
        for store in stores.values():
            await conn.execute(f"DROP SCHEMA IF EXISTS {store.schema} CASCADE")
        await conn.close()
    return [
        _growth_row("es_growth_append_per_batch", "append_batch_ms", by_size),
        _growth_row("es_growth_single_append", "single_append_ms", by_size),
        _growth_row("es_growth_read_per_page", "read_page_ms", by_size),
    ]
