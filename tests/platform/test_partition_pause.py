"""A message that cannot be handled yet (`RetryLater`) pauses only its own partition: the other
partitions' messages are handled meanwhile, and its own partition keeps its order."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
from aiokafka import AIOKafkaProducer

from shared.contracts.event import DomainEvent
from shared.infra import KafkaHandle
from shared.messaging.consumer import EventConsumer, Outcome, Redelivery
from shared.messaging.envelope import Envelope, RetryLater
from shared.messaging.kafka import make_consumer, make_producer
from shared.messaging.topics import TopicSpec, dlq_of, ensure_topics
from shared.messaging.worker import consume_until
from tests.platform.test_consumer import REGISTRY, Deposited, _good

WAITING = 999
"""The amount of the message that waits for something that has not arrived yet."""


async def _handled(pool: asyncpg.Pool, schema: str) -> list[int]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(f"SELECT amount FROM {schema}.handled ORDER BY n")
    return [r["amount"] for r in rows]


async def _until(predicate, timeout_s: float) -> bool:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(0.05)
    return False


async def test_retry_later_pauses_only_its_own_partition(
    pool: asyncpg.Pool, schema: str, broker: KafkaHandle, topic_prefix: str
) -> None:
    topic = topic_prefix + "inspections.v1"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 2), TopicSpec(dlq_of(topic), 1)])
    async with pool.acquire() as conn:
        await conn.execute(f"CREATE TABLE {schema}.handled (n serial PRIMARY KEY, amount int NOT NULL)")
    released = asyncio.Event()

    async def handle(conn: asyncpg.Connection, envelope: Envelope, event: DomainEvent) -> None:
        assert isinstance(event, Deposited)
        if event.amount == WAITING and not released.is_set():
            raise RetryLater("the case it refers to has not arrived")
        await conn.execute(f"INSERT INTO {schema}.handled (amount) VALUES ($1)", event.amount)

    raw = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
    await raw.start()

    async def put(partition: int, *amounts: int) -> None:
        for amount in amounts:
            value, headers = _good(amount, str(uuid.uuid4()))
            await raw.send_and_wait(topic, value=value, key=b"k", headers=headers, partition=partition)

    producer = make_producer(broker.bootstrap_servers)
    await producer.start()
    kafka = make_consumer(
        broker.bootstrap_servers, [topic], group_id=topic_prefix + "g", instance_id=topic_prefix + "g-0"
    )
    await kafka.start()
    retry = Redelivery(initial_delay=0.05, max_delay=0.5, retry_later_budget_s=60)
    consumer = EventConsumer("pause", pool, schema, REGISTRY, handle, producer, retry=retry)
    stop = asyncio.Event()
    task = asyncio.create_task(consume_until(kafka, consumer, stop, poll_timeout_ms=100))
    try:
        await put(0, WAITING, 1)  # partition 0: the waiting one, then one that must wait behind it
        await put(1, 10, 11)
        assert await _until(lambda: _has(pool, schema, {10, 11}), 20)
        await put(1, 12, 13)  # arrives while partition 0 is still waiting
        assert await _until(lambda: _has(pool, schema, {12, 13}), 5), "partition 1 was held up"
        handled = await _handled(pool, schema)
        assert WAITING not in handled and 1 not in handled, "partition 0 lost its order"
        released.set()
        assert await _until(lambda: _has(pool, schema, {WAITING, 1}), 10)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await kafka.stop()
        await producer.stop()
        await raw.stop()
    handled = await _handled(pool, schema)
    assert handled.index(WAITING) < handled.index(1)
    assert sorted(handled) == [1, 10, 11, 12, 13, WAITING]
    assert consumer.counts[Outcome.DEAD_LETTERED] == 0
    assert consumer.counts[Outcome.DEFERRED] >= 1


async def _has(pool: asyncpg.Pool, schema: str, amounts: set[int]) -> bool:
    return amounts <= set(await _handled(pool, schema))


async def test_a_record_deferred_past_its_budget_is_dead_lettered(
    pool: asyncpg.Pool, schema: str, broker: KafkaHandle, topic_prefix: str
) -> None:
    topic = topic_prefix + "inspections.v1"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 1), TopicSpec(dlq_of(topic), 1)])

    async def never(conn: asyncpg.Connection, envelope: Envelope, event: DomainEvent) -> None:
        raise RetryLater("never arrives")

    producer = make_producer(broker.bootstrap_servers)
    await producer.start()
    value, headers = _good(5)
    await producer.send_and_wait(topic, value=value, key=b"k", headers=headers)
    kafka = make_consumer(
        broker.bootstrap_servers, [topic], group_id=topic_prefix + "g", instance_id=topic_prefix + "g-0"
    )
    await kafka.start()
    retry = Redelivery(initial_delay=0.05, max_delay=0.2, retry_later_budget_s=1.0)
    consumer = EventConsumer("never", pool, schema, REGISTRY, never, producer, retry=retry)
    stop = asyncio.Event()
    task = asyncio.create_task(consume_until(kafka, consumer, stop, poll_timeout_ms=100))
    try:

        async def dead() -> bool:
            return consumer.counts[Outcome.DEAD_LETTERED] == 1

        assert await _until(dead, 15)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await kafka.stop()
        await producer.stop()
