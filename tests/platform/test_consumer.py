"""Idempotent consumer on a real broker: duplicates have no second effect, poison goes to the DLQ."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.cli.topics import read_headers
from shared.contracts.event import DomainEvent, PersonalStr
from shared.contracts.registry import EventRegistry
from shared.infra import KafkaHandle
from shared.messaging.consumer import EventConsumer, Outcome, Redelivery
from shared.messaging.envelope import Envelope, PoisonMessage, RetryLater
from shared.messaging.kafka import make_consumer, make_producer
from shared.messaging.raw import RawRecord
from shared.messaging.topics import TopicSpec, dlq_of, ensure_topics
from shared.messaging.worker import consume_until


class Deposited(DomainEvent):
    event_name = "test.deposited"
    event_version = 1
    account: str
    amount: int
    holder: PersonalStr


REGISTRY = EventRegistry([Deposited])


def _good(amount: int, event_id: str | None = None) -> tuple[bytes, list[tuple[str, bytes]]]:
    env = Envelope(
        id=event_id or str(uuid.uuid4()),
        source="/test",
        type=Deposited.ce_type(),
        data={"account": "acc-1", "amount": amount, "holder": "Айгүл"},
    )
    return env.body(), env.to_headers()


async def _setup_table(pool: asyncpg.Pool, schema: str) -> None:
    async with pool.acquire() as conn:
        await conn.execute(f"CREATE TABLE {schema}.balance (account text PRIMARY KEY, total int NOT NULL)")


def _handler(schema: str):  # type: ignore[no-untyped-def]
    async def handle(conn: asyncpg.Connection, envelope: Envelope, event: DomainEvent) -> None:
        assert isinstance(event, Deposited)
        await conn.execute(
            f"INSERT INTO {schema}.balance VALUES ($1, $2)"
            " ON CONFLICT (account) DO UPDATE SET total = balance.total + excluded.total",
            event.account,
            event.amount,
        )

    return handle


async def _drain(bootstrap: str, topic: str, expected: int, timeout_s: float = 20) -> list:  # type: ignore[type-arg]
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    out = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while len(out) < expected and loop.time() < deadline:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                out.extend(records)
    finally:
        await consumer.stop()
    return out


@pytest.mark.tansu
async def test_redelivered_message_has_no_second_effect_and_poison_is_dead_lettered(
    pool: asyncpg.Pool, schema: str, broker: KafkaHandle, topic_prefix: str
) -> None:
    topic = topic_prefix + "inspections.v1"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 2), TopicSpec(dlq_of(topic), 1)])
    await _setup_table(pool, schema)
    raw = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
    await raw.start()
    same_id = str(uuid.uuid4())
    try:
        for value, headers in [_good(10, same_id), _good(10, same_id), _good(5)]:
            await raw.send_and_wait(topic, value=value, key=b"acc-1", headers=headers)
        good_value, good_headers = _good(1)
        poison = [
            (b"{not json", good_headers, "not valid JSON"),
            (
                good_value,
                [(k, b"kz.qyzmet.test.unknown.v1" if k == "ce_type" else v) for k, v in good_headers],
                "unknown event type",
            ),
            (b'{"account": "acc-1", "amount": "lots", "holder": "x"}', good_headers, "amount"),
            (good_value, [(k, v) for k, v in good_headers if k != "ce_id"], "missing header ce_id"),
        ]
        for value, headers, _ in poison:
            await raw.send_and_wait(topic, value=value, key=b"acc-1", headers=headers)
        await raw.send_and_wait(topic, value=_good(100)[0], key=b"acc-1", headers=_good(100)[1])
    finally:
        await raw.stop()

    producer = make_producer(broker.bootstrap_servers, idempotent=broker.kind != "tansu")
    await producer.start()
    kafka_consumer = make_consumer(
        broker.bootstrap_servers, [topic], group_id=topic_prefix + "g", instance_id=topic_prefix + "g-0"
    )
    await kafka_consumer.start()
    consumer = EventConsumer("balance", pool, schema, REGISTRY, _handler(schema), producer)
    stop = asyncio.Event()
    task = asyncio.create_task(consume_until(kafka_consumer, consumer, stop))
    try:
        for _ in range(300):
            if sum(consumer.counts.values()) >= 8:
                break
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await task
        await kafka_consumer.stop()
        await producer.stop()

    assert consumer.counts == {Outcome.HANDLED: 3, Outcome.DUPLICATE: 1, Outcome.DEAD_LETTERED: 4}
    async with pool.acquire() as conn:
        assert await conn.fetchval(f"SELECT total FROM {schema}.balance") == 115
    dead = await _drain(broker.bootstrap_servers, dlq_of(topic), 4)
    reasons = [dict(record.headers)["dlq_reason"].decode() for record in dead]
    assert len(dead) == 4
    for (value, _, expected_reason), record, reason in zip(poison, dead, reasons, strict=True):
        assert expected_reason in reason
        assert record.value == value  # original bytes kept
        assert dict(record.headers)["dlq_topic"].decode() == topic
    # Operators read the dead letters with `qyzmet topics read` (kafka-python): reasons, no bodies.
    listed = read_headers(broker.bootstrap_servers, dlq_of(topic), 10)
    assert [row["dlq_reason"] for row in listed] == reasons
    assert all("Айгүл" not in str(row) for row in listed)


@pytest.mark.tansu
async def test_database_outage_is_retried_not_dead_lettered(
    pool: asyncpg.Pool, schema: str, broker: KafkaHandle, topic_prefix: str
) -> None:
    topic = topic_prefix + "complaints.v1"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 1), TopicSpec(dlq_of(topic), 1)])
    await _setup_table(pool, schema)
    failures = 3
    real = _handler(schema)

    async def flaky(conn: asyncpg.Connection, envelope: Envelope, event: DomainEvent) -> None:
        nonlocal failures
        if failures:
            failures -= 1
            raise asyncpg.CannotConnectNowError("the database system is starting up")
        await real(conn, envelope, event)

    raw = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
    await raw.start()
    value, headers = _good(7)
    await raw.send_and_wait(topic, value=value, key=b"acc-1", headers=headers)
    await raw.stop()

    producer = make_producer(broker.bootstrap_servers, idempotent=broker.kind != "tansu")
    await producer.start()
    kafka_consumer = make_consumer(
        broker.bootstrap_servers, [topic], group_id=topic_prefix + "g", instance_id=None
    )
    await kafka_consumer.start()
    consumer = EventConsumer(
        "balance", pool, schema, REGISTRY, flaky, producer, Redelivery(initial_delay=0.01, max_delay=0.05)
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consume_until(kafka_consumer, consumer, stop))
    try:
        for _ in range(200):
            if consumer.counts[Outcome.HANDLED]:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
        await kafka_consumer.stop()
        await producer.stop()
    assert failures == 0
    assert consumer.counts[Outcome.HANDLED] == 1
    assert consumer.counts[Outcome.DEAD_LETTERED] == 0
    async with pool.acquire() as conn:
        assert await conn.fetchval(f"SELECT total FROM {schema}.balance") == 7


async def test_batch_with_a_failing_record_falls_back_to_one_by_one(
    pool: asyncpg.Pool, schema: str, broker: KafkaHandle, topic_prefix: str
) -> None:
    """One transaction per batch; a record whose handler refuses it rolls the batch back, and the
    records are then handled singly: the good ones once, the bad one dead-lettered."""
    topic = topic_prefix + "decisions.v1"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 1), TopicSpec(dlq_of(topic), 1)])
    await _setup_table(pool, schema)
    real = _handler(schema)

    async def refuse_negative(conn: asyncpg.Connection, envelope: Envelope, event: DomainEvent) -> None:
        await real(conn, envelope, event)
        assert isinstance(event, Deposited)
        if event.amount < 0:
            raise PoisonMessage("negative deposits are refused")

    same = str(uuid.uuid4())
    records = [
        RawRecord(topic, 0, offset, b"acc-1", value, headers)
        for offset, (value, headers) in enumerate(
            [_good(1), _good(2, same), _good(-5), _good(2, same), _good(4)]
        )
    ]
    producer = make_producer(broker.bootstrap_servers, idempotent=broker.kind != "tansu")
    await producer.start()
    try:
        consumer = EventConsumer("balance", pool, schema, REGISTRY, refuse_negative, producer)
        outcomes = await consumer.process_batch(records)
        assert outcomes == [
            Outcome.HANDLED,
            Outcome.HANDLED,
            Outcome.DEAD_LETTERED,
            Outcome.DUPLICATE,
            Outcome.HANDLED,
        ]
        clean = await consumer.process_batch([RawRecord(topic, 9, 9, b"acc-1", *_good(10))] * 2)
        assert clean == [Outcome.HANDLED, Outcome.DUPLICATE]
    finally:
        await producer.stop()
    async with pool.acquire() as conn:
        assert await conn.fetchval(f"SELECT total FROM {schema}.balance") == 17
    dead = await _drain(broker.bootstrap_servers, dlq_of(topic), 1)
    assert dict(dead[0].headers)["dlq_reason"] == b"negative deposits are refused"


async def test_retry_later_waits_for_what_is_missing_then_gives_up_into_the_dlq(
    pool: asyncpg.Pool, schema: str, broker: KafkaHandle, topic_prefix: str
) -> None:
    topic = topic_prefix + "inspections.v1"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 1), TopicSpec(dlq_of(topic), 1)])
    await _setup_table(pool, schema)
    real = _handler(schema)
    not_yet = 2

    async def arrives_later(conn: asyncpg.Connection, envelope: Envelope, event: DomainEvent) -> None:
        nonlocal not_yet
        if not_yet:
            not_yet -= 1
            raise RetryLater("the case has not arrived yet")
        await real(conn, envelope, event)

    async def never(conn: asyncpg.Connection, envelope: Envelope, event: DomainEvent) -> None:
        raise RetryLater("the case never arrives")

    policy = Redelivery(initial_delay=0.01, max_delay=0.02, retry_later_budget_s=0.1)
    producer = make_producer(broker.bootstrap_servers, idempotent=broker.kind != "tansu")
    await producer.start()
    try:
        patient = EventConsumer("balance", pool, schema, REGISTRY, arrives_later, producer, policy)
        assert await patient.process(RawRecord(topic, 0, 0, b"acc-1", *_good(5))) is Outcome.HANDLED
        hopeless = EventConsumer("other", pool, schema, REGISTRY, never, producer, policy)
        assert await hopeless.process(RawRecord(topic, 0, 1, b"acc-1", *_good(6))) is Outcome.DEAD_LETTERED
    finally:
        await producer.stop()
    assert not_yet == 0
    dead = await _drain(broker.bootstrap_servers, dlq_of(topic), 1)
    assert b"gave up after" in dict(dead[0].headers)["dlq_reason"]


class Withdrawn(DomainEvent):
    event_name = "test.withdrawn"
    event_version = 1
    account: str


def _withdrawn(data: dict[str, object]) -> tuple[bytes, list[tuple[str, bytes]]]:
    env = Envelope(id=str(uuid.uuid4()), source="/test", type=Withdrawn.ce_type(), data=data)
    return env.body(), env.to_headers()


async def test_events_a_consumer_does_not_handle_are_ignored_without_a_transaction(
    pool: asyncpg.Pool, schema: str, broker: KafkaHandle, topic_prefix: str
) -> None:
    """`handles=`: the topic's other known events are acknowledged untouched (no inbox row, no
    decoding of their data, so not dead-lettered either); an unknown type is still poison."""
    topic = topic_prefix + "decisions.v1"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 1), TopicSpec(dlq_of(topic), 1)])
    await _setup_table(pool, schema)
    unknown_value, unknown_headers = _good(1)
    unknown_headers = [(k, b"kz.qyzmet.test.unknown.v1" if k == "ce_type" else v) for k, v in unknown_headers]
    batch = [
        _good(1),
        _withdrawn({"account": "acc-1"}),
        _withdrawn({"no": "account"}),  # invalid, but not this consumer's business
        (unknown_value, unknown_headers),
        _good(2),
    ]
    records = [RawRecord(topic, 0, i, b"acc-1", v, h) for i, (v, h) in enumerate(batch)]
    producer = make_producer(broker.bootstrap_servers, idempotent=broker.kind != "tansu")
    await producer.start()
    try:
        registry = EventRegistry([Deposited, Withdrawn])
        consumer = EventConsumer(
            "balance", pool, schema, registry, _handler(schema), producer, handles=(Deposited,)
        )
        outcomes = await consumer.process_batch(records)
        alone = await consumer.process(records[1])
    finally:
        await producer.stop()
    assert outcomes == [
        Outcome.HANDLED,
        Outcome.IGNORED,
        Outcome.IGNORED,
        Outcome.DEAD_LETTERED,
        Outcome.HANDLED,
    ]
    assert alone is Outcome.IGNORED
    assert consumer.counts[Outcome.IGNORED] == 3
    async with pool.acquire() as conn:
        assert await conn.fetchval(f"SELECT total FROM {schema}.balance") == 3
        assert await conn.fetchval(f"SELECT count(*) FROM {schema}.inbox") == 2
    dead = await _drain(broker.bootstrap_servers, dlq_of(topic), 1)
    assert len(dead) == 1 and b"unknown" in dict(dead[0].headers)["dlq_reason"]
