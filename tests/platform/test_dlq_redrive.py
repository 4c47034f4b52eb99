"""`qyzmet dlq redrive`: after a fix, dead-lettered messages go back to their topic and are
handled; each DLQ record at most once, selected by time (--since) or event id (--id)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from shared.cli.main import main
from shared.contracts.event import DomainEvent
from shared.infra import KafkaHandle
from shared.messaging.consumer import EventConsumer, Outcome
from shared.messaging.envelope import Envelope
from shared.messaging.kafka import make_consumer, make_producer
from shared.messaging.topics import TopicSpec, dlq_of, ensure_topics
from shared.messaging.worker import consume_until
from tests.platform.test_consumer import REGISTRY, Deposited, _drain, _good


async def _until_counts(consumer: EventConsumer, outcome: Outcome, n: int, timeout_s: float = 20) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline and consumer.counts.get(outcome, 0) < n:
        await asyncio.sleep(0.05)
    assert consumer.counts.get(outcome, 0) == n, consumer.counts


async def _redrive(*args: str) -> int:
    return await asyncio.to_thread(main, ["dlq", "redrive", "inspections.v1", *args])


async def test_redrive_puts_dead_letters_back_once_each(
    pool: asyncpg.Pool,
    schema: str,
    broker: KafkaHandle,
    topic_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrap_servers)
    monkeypatch.setenv("TOPIC_PREFIX", topic_prefix)
    topic = topic_prefix + "inspections.v1"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 2), TopicSpec(dlq_of(topic), 1)])
    async with pool.acquire() as conn:
        await conn.execute(f"CREATE TABLE {schema}.handled (amount int PRIMARY KEY)")
    broken = {1, 3}  # the handler's bug: these amounts fail, until it is fixed

    async def handle(conn: asyncpg.Connection, envelope: Envelope, event: DomainEvent) -> None:
        assert isinstance(event, Deposited)
        if event.amount in broken:
            raise ValueError("a bug in the handler")
        await conn.execute(f"INSERT INTO {schema}.handled VALUES ($1)", event.amount)

    ids = {amount: str(uuid.uuid4()) for amount in (1, 2, 3)}
    raw = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
    await raw.start()

    async def put(amount: int) -> None:
        value, headers = _good(amount, ids[amount])
        await raw.send_and_wait(topic, value=value, key=f"acc-{amount}".encode(), headers=headers)

    producer = make_producer(broker.bootstrap_servers)
    await producer.start()
    kafka = make_consumer(
        broker.bootstrap_servers, [topic], group_id=topic_prefix + "g", instance_id=topic_prefix + "g-0"
    )
    await kafka.start()
    consumer = EventConsumer("redrive", pool, schema, REGISTRY, handle, producer)
    stop = asyncio.Event()
    task = asyncio.create_task(consume_until(kafka, consumer, stop, poll_timeout_ms=100))
    try:
        await put(1)
        await put(2)
        await _until_counts(consumer, Outcome.DEAD_LETTERED, 1)
        await asyncio.sleep(1.1)
        between = datetime.now(UTC).isoformat()
        await put(3)
        await _until_counts(consumer, Outcome.DEAD_LETTERED, 2)
        broken.clear()  # the fix is deployed

        assert await _redrive("--since", between) == 0  # only the later dead letter: 3
        await _until_counts(consumer, Outcome.HANDLED, 2)
        assert await _redrive("--id", ids[1], "--id", ids[3]) == 0  # 3 was redriven already
        await _until_counts(consumer, Outcome.HANDLED, 3)
        capsys.readouterr()
        assert await _redrive() == 0
        assert capsys.readouterr().out.strip().endswith(f"0 redriven to {topic}")
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await kafka.stop()
        await producer.stop()
        await raw.stop()

    async with pool.acquire() as conn:
        assert sorted(r["amount"] for r in await conn.fetch(f"SELECT amount FROM {schema}.handled")) == [
            1,
            2,
            3,
        ]
    assert consumer.counts[Outcome.DEAD_LETTERED] == 2
    on_topic = await _drain(broker.bootstrap_servers, topic, 6, timeout_s=3)
    redriven = [dict(r.headers) for r in on_topic if "qyzmet-redriven" in dict(r.headers)]
    assert sorted(h["ce_id"].decode() for h in redriven) == sorted([ids[1], ids[3]])
    assert all(not any(k.startswith("dlq_") for k in h) for h in redriven)
    assert len(on_topic) == 5  # the three originals, two redriven copies, nothing twice


def test_redrive_without_a_broker_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("QYZMET_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # no system the user runs either
    assert main(["dlq", "redrive", "applications.v1"]) == 2
