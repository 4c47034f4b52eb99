"""Issue 14, cause 1: the event store's statements must use their indexes under ANY plan.

A prepared statement runs on a generic plan after five executions; one planned while the table was
small keeps scanning the whole table as it grows (per-append time grew linearly with the log). Both
tests plan on a small, freshly analyzed table with `plan_cache_mode = force_generic_plan`, where a
plain `stream_id = $1` or `event_id = ANY($3)` lookup is planned as a sequential scan."""

from __future__ import annotations

import asyncpg
import pytest

from shared.eventstore import ConcurrencyConflict, EventStore, GlobalCursor, NewEvent, PartialDuplicate
from shared.eventstore.statements import statements

_BATCH = (
    "(ARRAY['s-1'], ARRAY[1], ARRAY['s-1'], ARRAY[1], ARRAY[1], ARRAY[gen_random_uuid()],"
    " ARRAY['x'], ARRAY[1], ARRAY['{}'], ARRAY['{}'])"
)
_ARGS = {
    "append": "('s-1', 3, ARRAY[gen_random_uuid()], ARRAY['x'], ARRAY[1], ARRAY['{}'], ARRAY['{}'])",
    "append_batch": _BATCH,
    "append_batch_heads": _BATCH,
    "refusal": "(ARRAY[gen_random_uuid()], 's-1')",
    "stream_version": "('s-1')",
    "stream_versions": "(ARRAY['s-1', 's-2'])",
    "load": "('s-1', 0)",
    "read_committed": "('0', 0, 1000)",
    "read_for_publishing": "('0', 0, 1000)",
}


async def _small_analyzed_log(conn: asyncpg.Connection, schema: str, store: EventStore) -> None:
    for s in range(10):
        await store.append(conn, f"s-{s}", [NewEvent("x", {"n": i}) for i in range(3)], 0)
    await conn.execute(f"ANALYZE {schema}.events; ANALYZE {schema}.streams")
    await conn.execute("SET plan_cache_mode = force_generic_plan")


async def test_every_statement_plans_no_sequential_scan_of_the_log(pool: asyncpg.Pool, schema: str) -> None:
    store = EventStore(schema)
    sql = statements(schema)
    async with pool.acquire() as conn:
        prepared: list[str] = []
        try:
            await _small_analyzed_log(conn, schema, store)
            for name, args in _ARGS.items():
                await conn.execute(f"PREPARE plan_{name} AS {getattr(sql, name)}")
                prepared.append(name)
                plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN EXECUTE plan_{name}{args}"))
                assert "Seq Scan" not in plan, f"{name}:\n{plan}"
        finally:
            for name in prepared:
                await conn.execute(f"DEALLOCATE plan_{name}")
            await conn.execute("RESET plan_cache_mode")


async def test_appends_loads_and_reads_never_scan_the_log_under_generic_plans(
    pool: asyncpg.Pool, schema: str
) -> None:
    """Whatever the store runs, its own statements and the lookups inside the schema's functions:
    the transaction's table statistics count index scans of the log and not one sequential scan."""
    store = EventStore(schema)
    async with pool.acquire() as conn:
        try:
            await _small_analyzed_log(conn, schema, store)
            async with conn.transaction():
                before = await _scans(conn, schema)
                for n in range(8):  # past the five custom plans a prepared statement starts with
                    event = NewEvent("x", {"n": n})
                    await store.append(conn, f"g-{n}", [event], 0)
                    await store.append(conn, f"g-{n}", [NewEvent("x", {})], 1)
                    await store.append(conn, f"g-{n}", [NewEvent("x", {})], None)
                    assert (await store.append(conn, f"g-{n}", [event], 0)).appended == 0  # idempotent
                    with pytest.raises(ConcurrencyConflict):
                        await store.append(conn, f"g-{n}", [NewEvent("x", {})], 1)
                    with pytest.raises(PartialDuplicate):
                        await store.append(conn, f"g-{n}", [event, NewEvent("x", {})], 3)
                    batch = [(f"g-{n}", [NewEvent("x", {})]), (f"b-{n}", [NewEvent("x", {})])]
                    await store.append_batch(conn, batch)
                    assert [e.version for e in await store.load(conn, f"g-{n}")] == [1, 2, 3, 4]
                    assert await store.stream_version(conn, f"g-{n}") == 4
                    heads = await store.stream_versions(conn, [f"g-{n}", f"b-{n}"])
                    assert heads == {f"g-{n}": 4, f"b-{n}": 1}
                    batch = [(f"b-{n}", [NewEvent("x", {})]), (f"h-{n}", [NewEvent("x", {})])]
                    assert await store.append_batch_heads(conn, batch) == {f"b-{n}": 2, f"h-{n}": 1}
                    await store.read_committed(conn, GlobalCursor(), 100)
                    await store.read_committed_for_publishing(conn, GlobalCursor(), 100)
                after = await _scans(conn, schema)
        finally:
            await conn.execute("RESET plan_cache_mode")
    seq_scans = {table: after[table][0] - before.get(table, (0, 0))[0] for table in after}
    index_scans = {table: after[table][1] - before.get(table, (0, 0))[1] for table in after}
    assert seq_scans == {"events": 0, "streams": 0}, (before, after)
    assert index_scans["events"] > 0 and index_scans["streams"] > 0, (before, after)


async def _scans(conn: asyncpg.Connection, schema: str) -> dict[str, tuple[int, int]]:
    """Sequential and index scans of the log's tables counted in this backend and not yet reported
    (the current transaction's, and maybe earlier ones': hence before and after)."""
    rows = await conn.fetch(
        "SELECT relname, seq_scan, idx_scan FROM pg_stat_xact_user_tables"
        " WHERE schemaname = $1 AND relname IN ('events', 'streams')",
        schema,
    )
    return {row["relname"]: (row["seq_scan"], row["idx_scan"]) for row in rows}
