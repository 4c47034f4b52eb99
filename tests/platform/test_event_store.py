"""Event store cases only PostgreSQL has: sequence values committing out of order (what the
naive reader loses), transaction-id ordering, an older transaction refused behind a newer one.
The cases every backend shares are in `eventstore_contract.py`."""

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
    cursor_of,
)
from shared.eventstore.store import read_naive


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


async def test_gap_safe_reader_holds_back_a_newer_commit_and_reads_by_transaction_id(
    pool: asyncpg.Pool, schema: str
) -> None:
    """A transaction that began writing first but commits last: the reader returns nothing until it
    commits, then its event FIRST (it has the lower transaction id), before the one committed earlier.
    Reading in (txid, position) order is what lets a cursor never fall behind a late commit."""
    store = EventStore(schema)
    async with pool.acquire() as slow, pool.acquire() as fast:
        tx = slow.transaction()
        await tx.start()
        await store.append(slow, "late", [NewEvent("x", {})], 0)  # lower txid and position
        await store.append(fast, "early", [NewEvent("x", {})], 0)  # commits first
        async with pool.acquire() as reader:
            assert await store.read_committed(reader, GlobalCursor()) == []  # held back by the open tx
        await tx.commit()
        async with pool.acquire() as reader:
            for _ in range(1500):  # another session's open transaction may hold both back a while
                if len(events := await store.read_committed(reader, GlobalCursor())) == 2:
                    break
                await asyncio.sleep(0.01)
    assert [e.stream_id for e in events] == ["late", "early"]
    assert events[0].txid < events[1].txid


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
        for _ in range(1500):  # another session's open transaction may hold the gap-safe read back
            if len(events := await store.read_committed(old, GlobalCursor())) == 3:
                break
            await asyncio.sleep(0.01)
    assert [e.data["v"] for e in events if e.stream_id == "case-o"] == [1, 2, 3]


async def test_a_batch_is_all_or_nothing_and_numbers_each_stream_on(pool: asyncpg.Pool, schema: str) -> None:
    """`append_batch`: a stream named twice is numbered on; a stream a newer transaction wrote refuses
    the whole batch (no event of another stream stays), and the caller's transaction goes on."""
    store = EventStore(schema)
    async with pool.acquire() as conn:
        await store.append(conn, "b-x", [NewEvent("x", {"n": 1})], 0)
        batch = [
            ("b-x", [NewEvent("x", {"n": 2})]),
            ("b-y", [NewEvent("y", {})]),
            ("b-x", [NewEvent("x", {"n": 3})]),
        ]
        assert await store.append_batch(conn, batch) == 3
        assert [e.data["n"] for e in await store.load(conn, "b-x")] == [1, 2, 3]
        heads = await store.stream_versions(conn, ["b-x", "b-y", "b-none"])
        assert heads == {"b-x": 3, "b-y": 1, "b-none": 0}
    async with pool.acquire() as old, pool.acquire() as new:
        tx = old.transaction()
        await tx.start()
        await old.fetchval("SELECT pg_current_xact_id()")
        await store.append(new, "b-x", [NewEvent("x", {"n": 4})], 3)
        with pytest.raises(ConcurrencyConflict):
            await store.append_batch(old, [("b-z", [NewEvent("z", {})]), ("b-x", [NewEvent("x", {})])])
        assert await store.load(old, "b-z") == []
        assert await store.stream_version(old, "b-y") == 1  # still usable
        await tx.rollback()


async def test_a_batch_answering_its_heads_numbers_on_and_fails_whole(
    pool: asyncpg.Pool, schema: str
) -> None:
    """`append_batch_heads`: each stream's version after the batch (a stream named twice counted
    once, at its last event); a stream a newer transaction wrote fails the whole statement (the
    caller rolls back: nothing of the other streams stays)."""
    store = EventStore(schema)
    async with pool.acquire() as conn:
        assert await store.append_batch_heads(conn, []) == {}
        await store.append(conn, "h-x", [NewEvent("x", {"n": 1})], 0)
        batch = [
            ("h-x", [NewEvent("x", {"n": 2})]),
            ("h-y", [NewEvent("y", {}), NewEvent("y", {})]),
            ("h-x", [NewEvent("x", {"n": 3})]),
        ]
        assert await store.append_batch_heads(conn, batch) == {"h-x": 3, "h-y": 2}
        assert [e.data["n"] for e in await store.load(conn, "h-x")] == [1, 2, 3]
        assert await store.stream_versions(conn, ["h-x", "h-y"]) == {"h-x": 3, "h-y": 2}
    async with pool.acquire() as old, pool.acquire() as new:
        tx = old.transaction()
        await tx.start()
        await old.fetchval("SELECT pg_current_xact_id()")
        await store.append(new, "h-x", [NewEvent("x", {"n": 4})], 3)
        with pytest.raises(ConcurrencyConflict):
            await store.append_batch_heads(old, [("h-z", [NewEvent("z", {})]), ("h-x", [NewEvent("x", {})])])
        await tx.rollback()
        assert await store.load(old, "h-z") == []
        assert await store.stream_versions(old, ["h-x", "h-z"]) == {"h-x": 4, "h-z": 0}


async def test_the_payload_read_gives_the_global_reads_events_in_its_order_and_holds_back_alike(
    pool: asyncpg.Pool, schema: str
) -> None:
    """`read_committed_payloads` (what projections fold): the same events, pages and cursors as
    `read_committed`, each with its place, type and payload, and no more."""
    store = EventStore(schema)
    async with pool.acquire() as conn:
        await store.append(conn, "p-1", [NewEvent("a", {"n": 1}), NewEvent("b", {"n": 2, "x": [1]})], 0)
        await store.append_batch(conn, [("p-2", [NewEvent("c", {"n": 3}, schema_version=2)])])
        async with pool.acquire() as slow:
            tx = slow.transaction()
            await tx.start()
            await store.append(slow, "p-3", [NewEvent("d", {"n": 4})], 0)
            await store.append(conn, "p-4", [NewEvent("e", {"n": 5})], 0)  # behind the open one
            held = await store.read_committed_payloads(conn, GlobalCursor())
            assert "p-4" not in {p.stream_id for p in held}
            await tx.rollback()
        for _ in range(1500):  # another session's open transaction may hold the read back a while
            if len(full := await store.read_committed(conn, GlobalCursor())) == 4:
                break
            await asyncio.sleep(0.01)
        payloads = await store.read_committed_payloads(conn, GlobalCursor())
        first, rest = await store.read_committed_payloads(conn, GlobalCursor(), 1), []
        while page := await store.read_committed_payloads(conn, cursor_of((first + rest)[-1]), 1):
            rest += page
    assert [tuple(p) for p in payloads] == [
        (e.position, e.txid, e.stream_id, e.version, e.event_type, e.schema_version, e.data) for e in full
    ]
    assert [p.data["n"] for p in payloads] == [1, 2, 3, 5]
    assert payloads[2].schema_version == 2
    assert first + rest == payloads
