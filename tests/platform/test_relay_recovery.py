"""Relay recovery on a real broker: a refused event is parked (not a wedge), a fatal producer error
gets a fresh producer, and a relay that lost the leadership cannot move the checkpoint."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka import errors as kafka_errors
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from prometheus_client import REGISTRY

from shared.eventstore import EventStore, NewEvent
from shared.eventstore.records import GlobalCursor
from shared.infra import KafkaHandle
from shared.messaging.kafka import make_producer
from shared.messaging.relay import LeadershipLost, OutboxRelay
from shared.messaging.relay_errors import needs_new_producer, producer_is_dead
from shared.messaging.topics import TopicSpec, ensure_topics
from tests.platform.relay_helpers import CountingFactory, read_topic


def _create_topic(bootstrap: str, topic: str, configs: dict[str, str]) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(topic, 1, 1, topic_configs=configs)])
    finally:
        admin.close()


async def _run_until_caught_up(relay: OutboxRelay, timeout_s: float = 20.0) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop, idle_sleep=0.02, max_backoff=0.2))
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline and await relay.lag() > 0:
            await asyncio.sleep(0.05)
        # lag() counts from the checkpoint: 0 means every event is on the topic or parked.
        assert await relay.lag() == 0, "the relay did not get past the refused event"
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


def _parked_total(schema: str) -> float:
    value = REGISTRY.get_sample_value("qyzmet_relay_parked_total", {"schema": schema, "relay": "kafka"})
    return value or 0.0


async def test_refused_event_is_parked_and_a_fresh_producer_goes_on(
    pool: asyncpg.Pool, schema: str, broker: KafkaHandle, topic_prefix: str
) -> None:
    """The broker refuses one record (larger than the topic allows); its producer's next send gets
    OutOfOrderSequenceNumber forever. The relay parks the record with its reason, discards the
    producer, and publishes everything else in order with a fresh one."""
    topic = topic_prefix + "applications.v1"
    _create_topic(broker.bootstrap_servers, topic, {"max.message.bytes": "2000"})
    store = EventStore(schema)
    async with pool.acquire() as conn:
        await store.append(conn, "case-0", [NewEvent("test.happened", {"seq": 0})], 0)
        big = await store.append(conn, "case-1", [NewEvent("test.happened", {"blob": "x" * 5000})], 0)
        assert big.appended == 1
        for seq in (1, 2, 3):
            await store.append(conn, "case-0", [NewEvent("test.happened", {"seq": seq})], seq)
        rows = await conn.fetch(f"SELECT event_id::text, stream_id FROM {schema}.events ORDER BY position")
    big_id = next(r["event_id"] for r in rows if r["stream_id"] == "case-1")
    small_ids = [r["event_id"] for r in rows if r["stream_id"] == "case-0"]
    before = _parked_total(schema)

    factory = CountingFactory(broker.bootstrap_servers)
    first = await factory()
    relay = OutboxRelay(pool, store, first, lambda _: topic, source="/test", producer_factory=factory)
    try:
        await _run_until_caught_up(relay)
    finally:
        await factory.close()

    async with pool.acquire() as conn:
        parked = await conn.fetch(f"SELECT event_id::text, topic, reason FROM {schema}.relay_parked")
    assert [(p["event_id"], p["topic"], p["reason"]) for p in parked] == [
        (big_id, topic, "MessageSizeTooLargeError")
    ]
    assert _parked_total(schema) == before + 1
    assert len(factory.made) >= 2, "the poisoned producer was not replaced"
    landed = await read_topic(broker.bootstrap_servers, topic)
    first_copies: list[str] = []
    for record in landed:
        if record.event_id not in first_copies:
            first_copies.append(record.event_id)
    assert first_copies == small_ids


async def test_an_invalid_topic_name_parks_instead_of_wedging(
    pool: asyncpg.Pool, schema: str, broker: KafkaHandle, topic_prefix: str
) -> None:
    good = topic_prefix + "decisions.v1"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(good, 1)])
    store = EventStore(schema)
    async with pool.acquire() as conn:
        await store.append(conn, "case-0", [NewEvent("bad.route", {"seq": 0})], 0)
        await store.append(conn, "case-0", [NewEvent("test.happened", {"seq": 1})], 1)
    producer = make_producer(broker.bootstrap_servers)
    await producer.start()
    try:
        relay = OutboxRelay(
            pool, store, producer, lambda t: "no such topic!" if t == "bad.route" else good, source="/test"
        )
        await _run_until_caught_up(relay)
    finally:
        await producer.stop()
    async with pool.acquire() as conn:
        reasons = await conn.fetch(f"SELECT reason FROM {schema}.relay_parked")
    assert [r["reason"] for r in reasons] == ["InvalidTopicName: invalid topic name 'no such topic!'"]
    assert len(await read_topic(broker.bootstrap_servers, good)) == 1


async def test_a_relay_that_lost_the_leadership_cannot_move_the_checkpoint(
    pool: asyncpg.Pool, schema: str, broker: KafkaHandle, topic_prefix: str
) -> None:
    topic = topic_prefix + "applications.v1"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 1)])
    store = EventStore(schema)
    producer = make_producer(broker.bootstrap_servers)
    await producer.start()
    try:
        old = OutboxRelay(pool, store, producer, lambda _: topic, source="/test")
        new = OutboxRelay(pool, store, producer, lambda _: topic, source="/test")
        async with pool.acquire() as conn:
            old.leader_epoch = await old.ledger.claim_leadership(conn)
            # The old leader's lock session died unnoticed; another relay took the lock.
            new.leader_epoch = await new.ledger.claim_leadership(conn)
            await store.append(conn, "case-0", [NewEvent("test.happened", {"seq": 0})], 0)
            for _ in range(200):  # visible to the gap-safe reader once older transactions ended
                if await store.read_committed_for_publishing(conn, GlobalCursor(), 1):
                    break
                await asyncio.sleep(0.05)
        with pytest.raises(LeadershipLost):
            await old.drain()
        async with pool.acquire() as conn:
            assert await old.checkpoint(conn) == GlobalCursor()
        assert await new.drain() == 1
        async with pool.acquire() as conn:
            assert await new.checkpoint(conn) != GlobalCursor()
    finally:
        await producer.stop()


async def test_marks_are_kept_only_as_long_as_a_broker_could_lose_them(
    pool: asyncpg.Pool, schema: str, broker: KafkaHandle, topic_prefix: str
) -> None:
    """Every batch leaves a mark per partition; old ones are pruned, each partition's latest stays,
    and with nothing lost `recover()` does not rewind."""
    topic = topic_prefix + "applications.v1"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 2)])
    store = EventStore(schema)
    async with pool.acquire() as conn:
        for i in range(12):
            await store.append(conn, f"case-{i}", [NewEvent("test.happened", {"seq": 0})], 0)
        for _ in range(200):  # visible to the gap-safe reader once older transactions ended
            if len(await store.read_committed_for_publishing(conn, GlobalCursor(), 20)) == 12:
                break
            await asyncio.sleep(0.05)
    producer = make_producer(broker.bootstrap_servers)
    await producer.start()
    try:
        relay = OutboxRelay(pool, store, producer, lambda _: topic, source="/test", batch_size=3)
        assert await relay.drain() == 12
        async with pool.acquire() as conn:
            marks = await relay.ledger.recent_marks(conn)
            assert len(marks) > 2
            await conn.execute(f"UPDATE {schema}.relay_marks SET recorded_at = now() - interval '2 minutes'")
        assert await relay.recover() is False
        async with pool.acquire() as conn:
            kept = await relay.ledger.recent_marks(conn)
    finally:
        await producer.stop()
    latest: dict[int, int] = {}
    for mark in marks:
        latest[mark.partition] = max(latest.get(mark.partition, -1), mark.last_offset)
    assert sorted((m.partition, m.last_offset) for m in kept) == sorted(latest.items())


class _PoisonedOnce:
    """A real producer whose first send fails the way a broker that lost its state answers."""

    def __init__(self, real: AIOKafkaProducer, error: Exception) -> None:
        self.real = real
        self.error: Exception | None = error
        self.client = real.client

    async def send(self, *args: Any, **kwargs: Any) -> Any:
        if self.error is not None:
            failed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            failed.set_exception(self.error)
            self.error = None
            return failed
        return await self.real.send(*args, **kwargs)


@pytest.mark.parametrize(
    "error",
    [
        kafka_errors.OutOfOrderSequenceNumber(),
        kafka_errors.UnknownProducerId(),
        kafka_errors.ProducerFenced(),
    ],
    ids=lambda e: type(e).__name__,
)
@pytest.mark.parametrize("with_factory", [True, False], ids=["factory", "no-factory"])
async def test_a_fatal_producer_error_replaces_the_producer_only_with_a_factory(
    pool: asyncpg.Pool,
    schema: str,
    broker: KafkaHandle,
    topic_prefix: str,
    error: Exception,
    with_factory: bool,
) -> None:
    topic = topic_prefix + "applications.v1"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 1)])
    store = EventStore(schema)
    async with pool.acquire() as conn:
        for seq in range(3):
            await store.append(conn, "case-0", [NewEvent("test.happened", {"seq": seq})], seq)
    real = make_producer(broker.bootstrap_servers)
    await real.start()
    factory = CountingFactory(broker.bootstrap_servers)
    given = _PoisonedOnce(real, error)
    relay = OutboxRelay(
        pool,
        store,
        given,
        lambda _: topic,
        source="/test",
        producer_factory=factory if with_factory else None,
    )
    try:
        await _run_until_caught_up(relay)
    finally:
        await factory.close()
        await real.stop()
    assert relay.renewals == 1
    assert len(factory.made) == (1 if with_factory else 0)
    assert (relay.producer is given) is not with_factory  # without a factory it keeps its producer
    landed = await read_topic(broker.bootstrap_servers, topic)
    assert len({r.event_id for r in landed}) == 3  # (the ones after the failed send, twice)


async def test_a_producer_whose_sender_ended_counts_as_dead(broker: KafkaHandle) -> None:
    producer = make_producer(broker.bootstrap_servers)
    await producer.start()
    try:
        assert not producer_is_dead(producer)
        assert not needs_new_producer(TimeoutError(), producer)
        producer._sender.sender_task.cancel()  # what a crash of aiokafka's sender routine leaves
        with contextlib.suppress(asyncio.CancelledError):
            await producer._sender.sender_task
        assert producer_is_dead(producer)
        assert needs_new_producer(TimeoutError(), producer)
    finally:
        await asyncio.wait_for(producer.stop(), 5)
