"""Broker trouble never loses an event: the relay and the consumer loop retry from where they were."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from shared.eventstore import EventStore, NewEvent
from shared.infra import KafkaHandle
from shared.messaging.consumer import EventConsumer, Outcome
from shared.messaging.kafka import make_consumer, make_producer
from shared.messaging.relay import OutboxRelay, _lock_key
from shared.messaging.topics import TopicSpec, dlq_of, ensure_topics
from shared.messaging.worker import consume_until
from tests.platform.test_consumer import REGISTRY, _drain, _good, _handler, _setup_table
from tests.platform.test_relay import _read_all


class FlakyProducer:
    """A real producer whose first `failures` sends fail as if the broker were unreachable."""

    def __init__(self, real: AIOKafkaProducer, failures: int) -> None:
        self.real = real
        self.failures = failures

    async def send(self, *args: Any, **kwargs: Any) -> Any:
        if self.failures:
            self.failures -= 1
            raise KafkaConnectionError("broker unreachable (simulated)")
        return await self.real.send(*args, **kwargs)

    async def send_and_wait(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self.send(*args, **kwargs))


async def test_relay_retries_after_send_failures_and_loses_nothing(
    pool: asyncpg.Pool, schema: str, broker: KafkaHandle, topic_prefix: str
) -> None:
    topic = topic_prefix + "applications.v1"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 2)])
    store = EventStore(schema)
    async with pool.acquire() as conn:
        for i in range(20):
            await store.append(conn, f"case-{i % 4}", [NewEvent("test.happened", {"seq": i})], None)
    real = make_producer(broker.bootstrap_servers, idempotent=broker.kind != "tansu")
    await real.start()
    try:
        flaky = FlakyProducer(real, failures=3)
        relay = OutboxRelay(pool, store, flaky, lambda _: topic, source="/test", batch_size=7)  # type: ignore[arg-type]
        stop = asyncio.Event()
        task = asyncio.create_task(relay.run(stop, idle_sleep=0.01, max_backoff=0.05))
        for _ in range(400):
            if await relay.lag() == 0:
                break
            await asyncio.sleep(0.02)
        stop.set()
        await task
    finally:
        await real.stop()
    assert relay.failures == 3
    received = await _read_all(broker.bootstrap_servers, topic, 20)
    assert {data["seq"] for _, data in received} == set(range(20))  # every event, none lost


async def test_consumer_rewinds_when_a_dead_letter_cannot_be_published(
    pool: asyncpg.Pool, schema: str, broker: KafkaHandle, topic_prefix: str
) -> None:
    topic = topic_prefix + "decisions.v1"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 1), TopicSpec(dlq_of(topic), 1)])
    await _setup_table(pool, schema)
    raw = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
    await raw.start()
    try:
        good_value, good_headers = _good(3)
        await raw.send_and_wait(topic, value=good_value, key=b"acc-1", headers=good_headers)
        await raw.send_and_wait(topic, value=b"{broken", key=b"acc-1", headers=good_headers)
        await raw.send_and_wait(topic, value=_good(4)[0], key=b"acc-1", headers=_good(4)[1])
    finally:
        await raw.stop()
    real = make_producer(broker.bootstrap_servers, idempotent=broker.kind != "tansu")
    await real.start()
    kafka = make_consumer(broker.bootstrap_servers, [topic], group_id=topic_prefix + "g", instance_id=None)
    await kafka.start()
    consumer = EventConsumer(
        "balance",
        pool,
        schema,
        REGISTRY,
        _handler(schema),
        FlakyProducer(real, failures=1),  # type: ignore[arg-type]
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consume_until(kafka, consumer, stop, max_backoff=0.05))
    try:
        for _ in range(300):
            if consumer.counts[Outcome.DEAD_LETTERED] and consumer.counts[Outcome.HANDLED] >= 2:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
        await kafka.stop()
        await real.stop()
    async with pool.acquire() as conn:
        assert await conn.fetchval(f"SELECT total FROM {schema}.balance") == 7  # each deposit once
    assert consumer.counts[Outcome.DEAD_LETTERED] == 1
    dead = await _drain(broker.bootstrap_servers, dlq_of(topic), 1)
    assert len(dead) == 1 and dead[0].value == b"{broken"


async def test_relay_that_loses_its_lock_session_competes_again_and_goes_on(
    pool: asyncpg.Pool, schema: str, broker: KafkaHandle, topic_prefix: str
) -> None:
    topic = topic_prefix + "decisions.v1"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 1)])
    store = EventStore(schema)
    producer = make_producer(broker.bootstrap_servers, idempotent=broker.kind != "tansu")
    await producer.start()
    relay = OutboxRelay(pool, store, producer, lambda _: topic, source="/test")
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop, idle_sleep=0.01, max_backoff=0.1, lock_check_s=0.05))
    try:
        async with pool.acquire() as conn:
            await store.append(conn, "case-a", [NewEvent("test.happened", {"seq": 0})], None)
            for _ in range(200):
                key = _lock_key(schema, "kafka") & 0xFFFFFFFFFFFFFFFF  # as PostgreSQL splits it
                holders = await conn.fetch(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND classid::bigint = $1 AND objid::bigint = $2",
                    key >> 32,
                    key & 0xFFFFFFFF,
                )
                if holders and await relay.lag() == 0:
                    break
                await asyncio.sleep(0.02)
            assert holders, "the relay never took its lock"
            # The database drops the leader's session (a restart, a network cut): the lock goes with it.
            await conn.execute("SELECT pg_terminate_backend($1)", holders[0]["pid"])
            await store.append(conn, "case-a", [NewEvent("test.happened", {"seq": 1})], None)
        for _ in range(300):  # the loss is noticed at the next leadership check, then it goes on
            if relay.failures >= 1 and await relay.lag() == 0:
                break
            await asyncio.sleep(0.02)
        assert relay.failures >= 1  # the lost session was noticed
        assert await relay.lag() == 0
        assert not task.done()  # still running, leader again
    finally:
        stop.set()
        await task
        await producer.stop()
    received = await _read_all(broker.bootstrap_servers, topic, 2)
    assert {data["seq"] for _, data in received} == {0, 1}
