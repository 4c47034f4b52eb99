"""Event store on real PostgreSQL: concurrency, idempotence, gap-safe reading."""

from __future__ import annotations

import asyncio
import random
import uuid

import asyncpg
import pytest

from shared.eventstore import (
    ConcurrencyConflict,
    EventStore,
    GlobalCursor,
    NewEvent,
    PartialDuplicate,
    cursor_of,
)
from shared.eventstore.store import read_naive


async def test_append_and_load_in_stream_order(pool: asyncpg.Pool, schema: str) -> None:
    store = EventStore(schema)
    async with pool.acquire() as conn:
        first = await store.append(conn, "case-1", [NewEvent("a.b", {"n": 1}), NewEvent("a.b", {"n": 2})], 0)
        second = await store.append(conn, "case-1", [NewEvent("a.c", {"n": 3})], 2)
        events = await store.load(conn, "case-1")
    assert (first.version, second.version) == (2, 3)
    assert [e.data["n"] for e in events] == [1, 2, 3]
    assert [e.version for e in events] == [1, 2, 3]


async def test_two_concurrent_writers_exactly_one_wins(pool: asyncpg.Pool, schema: str) -> None:
    store = EventStore(schema)
    async with pool.acquire() as conn:
        await store.append(conn, "case-2", [NewEvent("x", {})], 0)
    gate = asyncio.Event()

    async def writer(tag: str) -> str:
        async with pool.acquire() as conn, conn.transaction():
            version = await store.stream_version(conn, "case-2")
            await gate.wait()
            try:
                await store.append(conn, "case-2", [NewEvent("x", {"by": tag})], version)
            except ConcurrencyConflict as conflict:
                assert conflict.expected == 1
                return "conflict"
            await asyncio.sleep(0.05)  # keep the transaction open while the other tries
            return "won"

    tasks = [asyncio.create_task(writer("a")), asyncio.create_task(writer("b"))]
    await asyncio.sleep(0.05)
    gate.set()
    results = sorted(await asyncio.gather(*tasks))
    assert results == ["conflict", "won"]
    async with pool.acquire() as conn:
        events = await store.load(conn, "case-2")
    assert [e.version for e in events] == [1, 2]


async def test_conflict_names_actual_version(pool: asyncpg.Pool, schema: str) -> None:
    store = EventStore(schema)
    async with pool.acquire() as conn:
        await store.append(conn, "case-3", [NewEvent("x", {}), NewEvent("x", {})], 0)
        with pytest.raises(ConcurrencyConflict) as info:
            await store.append(conn, "case-3", [NewEvent("x", {})], 5)
    assert (info.value.expected, info.value.actual) == (5, 2)
    assert "case-3" in str(info.value)


async def test_append_is_idempotent_by_event_id(pool: asyncpg.Pool, schema: str) -> None:
    store = EventStore(schema)
    event = NewEvent("x", {"v": 1})
    async with pool.acquire() as conn:
        first = await store.append(conn, "case-4", [event], 0)
        again = await store.append(conn, "case-4", [event], 0)
        mixed = [event, NewEvent("x", {"v": 2})]
        with pytest.raises(PartialDuplicate):
            await store.append(conn, "case-4", mixed, 1)
        assert await store.count(conn) == 1
    assert (first.appended, again.appended, again.version) == (1, 0, 1)


async def test_concurrent_idempotent_appends_store_once(pool: asyncpg.Pool, schema: str) -> None:
    store = EventStore(schema)
    event = NewEvent("x", {"v": 1})

    async def write() -> int:
        async with pool.acquire() as conn:
            return (await store.append(conn, "case-5", [event], None)).appended

    results = await asyncio.gather(*(write() for _ in range(6)))
    assert sum(results) == 1
    async with pool.acquire() as conn:
        assert await store.count(conn) == 1


async def _slow_writers(pool: asyncpg.Pool, store: EventStore, writers: int, txs: int) -> int:
    rng = random.Random(7)
    total = 0

    async def writer(w: int) -> None:
        nonlocal total
        for t in range(txs):
            n = rng.randint(1, 3)
            async with pool.acquire() as conn, conn.transaction():
                await store.append(conn, f"w{w}-t{t}", [NewEvent("x", {"w": w}) for _ in range(n)], 0)
                total += n
                await asyncio.sleep(rng.uniform(0, 0.02))  # commit late: sequence values commit out of order

    await asyncio.gather(*(writer(w) for w in range(writers)))
    return total


async def _tail(pool: asyncpg.Pool, read_once, done: asyncio.Event) -> list[uuid.UUID]:  # type: ignore[no-untyped-def]
    seen: list[uuid.UUID] = []
    while True:
        finished = done.is_set()
        async with pool.acquire() as conn:
            while batch := await read_once(conn):
                seen.extend(batch)
        if finished:
            return seen
        await asyncio.sleep(0.001)


async def test_gap_safe_reader_never_skips_an_event(pool: asyncpg.Pool, schema: str) -> None:
    store = EventStore(schema)
    done = asyncio.Event()
    cursor = GlobalCursor()

    async def read_once(conn: asyncpg.Connection) -> list[uuid.UUID]:
        nonlocal cursor
        events = await store.read_committed(conn, cursor, 50)
        cursor = cursor_of(events[-1] if events else None, cursor)
        return [e.event_id for e in events]

    reader = asyncio.create_task(_tail(pool, read_once, done))
    total = await _slow_writers(pool, store, writers=8, txs=25)
    done.set()
    seen = await reader
    async with pool.acquire() as conn:
        stored = await store.count(conn)
    assert stored == total
    assert len(seen) == total
    assert len(set(seen)) == total  # every event exactly once: none skipped, none twice


async def test_naive_position_reader_skips_events(pool: asyncpg.Pool, schema: str) -> None:
    """The control: the same load read with `position > last` loses events."""
    store = EventStore(schema)
    done = asyncio.Event()
    last = 0

    async def read_once(conn: asyncpg.Connection) -> list[uuid.UUID]:
        nonlocal last
        rows = await read_naive(conn, schema, last, 50)
        if rows:
            last = rows[-1]["position"]
        return [row["event_id"] for row in rows]

    reader = asyncio.create_task(_tail(pool, read_once, done))
    total = await _slow_writers(pool, store, writers=8, txs=25)
    done.set()
    seen = await reader
    assert len(set(seen)) < total, "the naive reader should have skipped late-committing events"


async def test_gap_safe_reader_orders_by_commit(pool: asyncpg.Pool, schema: str) -> None:
    store = EventStore(schema)
    async with pool.acquire() as slow, pool.acquire() as fast:
        tx = slow.transaction()
        await tx.start()
        await store.append(slow, "late", [NewEvent("x", {})], 0)  # takes the lower position
        await store.append(fast, "early", [NewEvent("x", {})], 0)
        async with pool.acquire() as reader:
            assert await store.read_committed(reader, GlobalCursor()) == []  # held back by the open tx
        await tx.commit()
        async with pool.acquire() as reader:
            events = await store.read_committed(reader, GlobalCursor())
    assert {e.stream_id for e in events} == {"late", "early"}


async def test_an_older_transaction_cannot_append_behind_a_newer_one(pool: asyncpg.Pool, schema: str) -> None:
    """Readers order by transaction id; a transaction that began before another one wrote to the
    stream must not append after it (its events would be read first), so it must start again."""
    store = EventStore(schema)
    async with pool.acquire() as conn:
        await store.append(conn, "case-o", [NewEvent("x", {"v": 1})], 0)
    async with pool.acquire() as old, pool.acquire() as new:
        tx = old.transaction()
        await tx.start()
        await old.fetchval("SELECT pg_current_xact_id()")  # the old transaction has its id now
        await store.append(new, "case-o", [NewEvent("x", {"v": 2})], 1)
        version = await store.stream_version(old, "case-o")
        with pytest.raises(ConcurrencyConflict):
            await store.append(old, "case-o", [NewEvent("x", {"v": 3})], version)
        await tx.rollback()
        await store.append(old, "case-o", [NewEvent("x", {"v": 3})], 2)  # a new transaction: fine
        events = await store.read_committed(old, GlobalCursor())
    assert [e.data["v"] for e in events if e.stream_id == "case-o"] == [1, 2, 3]
