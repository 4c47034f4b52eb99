"""Platform benchmarks: event store and outbox relay next to raw baselines, in one run."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer

from bench.rows import ratio_row
from shared.db.pool import create_pool
from shared.eventstore import EventStore, GlobalCursor, NewEvent, apply_migrations, cursor_of
from shared.messaging.envelope import envelope_of
from shared.messaging.kafka import make_producer
from shared.messaging.relay import OutboxRelay
from shared.messaging.topics import TopicSpec, delete_topics, ensure_topics

EVENTS = 50_000
BATCH = 1_000
STREAM_SIZE = 5

Row = dict[str, Any]


def _payload(i: int) -> dict[str, Any]:
    return {"application_id": f"app-{i // STREAM_SIZE}", "office": "karaganda-01", "seq": i, "note": "x" * 64}


def _batches() -> list[list[tuple[str, list[NewEvent]]]]:
    out = []
    for start in range(0, EVENTS, BATCH):
        batch: list[tuple[str, list[NewEvent]]] = []
        for i in range(start, start + BATCH, STREAM_SIZE):
            events = [NewEvent("bench.happened", _payload(j)) for j in range(i, i + STREAM_SIZE)]
            batch.append((f"app-{i // STREAM_SIZE}", events))
        out.append(batch)
    return out


async def _append(pool: asyncpg.Pool, store: EventStore) -> float:
    batches = _batches()
    started = time.perf_counter()
    async with pool.acquire() as conn:
        for batch in batches:
            await store.append_batch(conn, batch)
    return EVENTS / (time.perf_counter() - started)


async def _raw_copy(database_url: str, schema: str) -> float:
    """COPY into an identical table on a plain connection (asyncpg's own jsonb codec)."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f"CREATE TABLE {schema}.raw_events (LIKE {schema}.events INCLUDING ALL)")
        payloads = [[_payload(i) for i in range(start, start + BATCH)] for start in range(0, EVENTS, BATCH)]
        columns = ["stream_id", "version", "event_id", "event_type", "schema_version", "data", "metadata"]
        started = time.perf_counter()
        for batch in payloads:
            records = [
                (
                    f"app-{p['seq'] // STREAM_SIZE}",
                    p["seq"] % STREAM_SIZE + 1,
                    uuid.uuid4(),
                    "bench.happened",
                    1,
                    json.dumps(p),
                    "{}",
                )
                for p in batch
            ]
            await conn.copy_records_to_table(
                "raw_events", schema_name=schema, records=records, columns=columns
            )
        return EVENTS / (time.perf_counter() - started)
    finally:
        await conn.close()


async def _gap_safe_read(pool: asyncpg.Pool, store: EventStore) -> float:
    started = time.perf_counter()
    cursor, total = GlobalCursor(), 0
    async with pool.acquire() as conn:
        while events := await store.read_committed(conn, cursor, BATCH):
            total += len(events)
            cursor = cursor_of(events[-1])
    return total / (time.perf_counter() - started)


async def _raw_keyset(pool: asyncpg.Pool, schema: str) -> float:
    started = time.perf_counter()
    last, total = 0, 0
    async with pool.acquire() as conn:
        while rows := await conn.fetch(
            f"SELECT * FROM {schema}.events WHERE position > $1 ORDER BY position LIMIT $2", last, BATCH
        ):
            total += len(rows)
            last = rows[-1]["position"]
    return total / (time.perf_counter() - started)


async def _relay(pool: asyncpg.Pool, store: EventStore, bootstrap: str, topic: str) -> float:
    producer = make_producer(bootstrap)
    await producer.start()
    try:
        relay = OutboxRelay(pool, store, producer, lambda _: topic, source="/bench", batch_size=BATCH)
        started = time.perf_counter()
        await relay.drain()
        return relay.published / (time.perf_counter() - started)
    finally:
        await producer.stop()


async def _raw_produce(pool: asyncpg.Pool, store: EventStore, bootstrap: str, topic: str) -> float:
    async with pool.acquire() as conn:
        events = await store.read_committed(conn, GlobalCursor(), EVENTS)
    messages = [(e.stream_id.encode(), envelope_of(e, "/bench")) for e in events]
    encoded = [(key, env.body(), env.to_headers()) for key, env in messages]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        started = time.perf_counter()
        for i in range(0, len(encoded), BATCH):
            futures = [
                await producer.send(topic, value=value, key=key, headers=headers)
                for key, value, headers in encoded[i : i + BATCH]
            ]
            await asyncio.gather(*futures)
        return len(encoded) / (time.perf_counter() - started)
    finally:
        await producer.stop()


async def run(database_url: str, bootstrap_servers: str) -> list[Row]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    pool = await create_pool(database_url, min_size=1, max_size=4)
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    relay_topic, raw_topic = prefix + "relay", prefix + "raw"
    ensure_topics(bootstrap_servers, [TopicSpec(relay_topic, 6), TopicSpec(raw_topic, 6)])
    try:
        async with pool.acquire() as conn:
            await apply_migrations(conn, schema)
        store = EventStore(schema)
        append = await _append(pool, store)
        copy = await _raw_copy(database_url, schema)
        read = await _gap_safe_read(pool, store)
        keyset = await _raw_keyset(pool, schema)
        relay = await _relay(pool, store, bootstrap_servers, relay_topic)
        produce = await _raw_produce(pool, store, bootstrap_servers, raw_topic)
        return [
            ratio_row("event_store_batched_append", append, copy, "events/s", 0.5),
            ratio_row("gap_safe_global_read", read, keyset, "events/s", 0.5),
            ratio_row("outbox_relay_to_kafka", relay, produce, "events/s", 0.5),
        ]
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await pool.close()
        delete_topics(bootstrap_servers, prefix=prefix, quiet=True)
