"""The platform's Prometheus metrics move with the work: HTTP requests by route template,
consumer records by outcome with batch latency and dead letters, consumer lag from the broker's
offsets, timers fired and deadline breaches with the scheduler's backlog."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from fastapi import FastAPI
from prometheus_client import REGISTRY, CollectorRegistry

from shared.contracts.event import DomainEvent
from shared.contracts.registry import EventRegistry
from shared.http.app import create_app
from shared.infra import KafkaHandle
from shared.messaging.consumer import EventConsumer, Outcome
from shared.messaging.envelope import Envelope
from shared.messaging.kafka import make_producer
from shared.messaging.lag import LagMonitor
from shared.messaging.raw import RawRecord
from shared.messaging.topics import TopicSpec, dlq_of, ensure_topics
from shared.scheduling import DueTimer, TimerScheduler
from shared.scheduling.timers import TimerTable


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_http_requests_are_counted_and_timed_by_route_template() -> None:
    async def healthy() -> bool:
        return True

    app: FastAPI = create_app("metrics-test", metrics=CollectorRegistry(), health=healthy)

    @app.get("/v1/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        for thing_id in ("a", "b", "c"):
            assert (await client.get(f"/v1/things/{thing_id}")).status_code == 200
        assert (await client.get("/nowhere")).status_code == 404
        text = (await client.get("/metrics")).text
    assert 'qyzmet_http_requests_total{method="GET",route="/v1/things/{thing_id}",status="200"} 3.0' in text
    assert 'qyzmet_http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
    assert 'qyzmet_http_request_seconds_count{method="GET",route="/v1/things/{thing_id}"} 3.0' in text
    assert "/v1/things/a" not in text  # ids never become label values
    assert "qyzmet_consumer_records_total" in text  # the process's metrics are served too


class Counted(DomainEvent):
    event_name = "test.counted"
    event_version = 1
    n: int


async def test_consumer_counts_outcomes_latency_and_dead_letters(
    pool: asyncpg.Pool, schema: str, broker: KafkaHandle, topic_prefix: str
) -> None:
    topic = topic_prefix + "counted.v1"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 1), TopicSpec(dlq_of(topic), 1)])
    name = f"metrics-{uuid.uuid4().hex[:8]}"

    async def handle(conn: asyncpg.Connection, envelope: Envelope, event: DomainEvent) -> None:
        return None

    producer = make_producer(broker.bootstrap_servers)
    await producer.start()
    try:
        consumer = EventConsumer(name, pool, schema, EventRegistry([Counted]), handle, producer)
        good = Envelope(id=str(uuid.uuid4()), source="/t", type=Counted.ce_type(), data={"n": 1})
        records = [
            RawRecord(topic, 0, 0, b"k", good.body(), good.to_headers()),
            RawRecord(topic, 0, 1, b"k", good.body(), good.to_headers()),  # the same event again
            RawRecord(topic, 0, 2, b"k", b"not json", []),
        ]
        outcomes = await consumer.process_batch(records)
    finally:
        await producer.stop()
    assert outcomes == [Outcome.HANDLED, Outcome.DUPLICATE, Outcome.DEAD_LETTERED]
    assert _value("qyzmet_consumer_records_total", consumer=name, outcome="handled") == 1
    assert _value("qyzmet_consumer_records_total", consumer=name, outcome="duplicate") == 1
    assert _value("qyzmet_consumer_records_total", consumer=name, outcome="dead_lettered") == 1
    assert _value("qyzmet_dead_lettered_total", consumer=name, topic=topic) == 1
    assert _value("qyzmet_consumer_batch_seconds_count", consumer=name) == 1
    assert _value("qyzmet_consumer_batch_seconds_sum", consumer=name) > 0


async def test_lag_is_end_offset_minus_committed_offset_and_dead_letters_are_counted(
    broker: KafkaHandle, topic_prefix: str
) -> None:
    topic = topic_prefix + "lagging.v1"
    group = topic_prefix + "group"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 2), TopicSpec(dlq_of(topic), 1)])
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
    await producer.start()
    try:
        for i in range(5):
            await producer.send_and_wait(topic, b"x", partition=i % 2)  # 3 on partition 0, 2 on 1
        for _ in range(4):
            await producer.send_and_wait(dlq_of(topic), b"dead", partition=0)
    finally:
        await producer.stop()
    committer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap_servers, group_id=group)
    await committer.start()
    committer.assign([TopicPartition(topic, 0), TopicPartition(topic, 1)])
    try:
        await committer.commit(
            {
                TopicPartition(topic, 0): OffsetAndMetadata(1, ""),
                TopicPartition(topic, 1): OffsetAndMetadata(2, ""),
            }
        )
    finally:
        await committer.stop()
    monitor = LagMonitor(broker.bootstrap_servers, group)
    try:
        assert await monitor.measure() == {topic: 2}
    finally:
        await monitor.close()
    assert _value("qyzmet_consumer_lag_records", group=group, topic=topic) == 2
    assert _value("qyzmet_dlq_records", topic=dlq_of(topic)) == 4


async def test_scheduler_counts_fired_timers_breaches_and_its_backlog(
    pool: asyncpg.Pool, schema: str
) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            f"CREATE TABLE {schema}.timers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            " case_id text NOT NULL, kind text NOT NULL, due_at timestamptz NOT NULL,"
            " target timestamptz NOT NULL, fired_at timestamptz, fired_by text, cancelled_at timestamptz,"
            " attempts integer NOT NULL DEFAULT 0, last_error text, leased_until timestamptz,"
            " leased_by text, UNIQUE (case_id, kind, target))"
        )
        timers = TimerTable(schema, "case_id")
        past = datetime.now(UTC) - timedelta(minutes=1)
        await timers.schedule(conn, "case-1", "deadline_approaching", past)
        await timers.schedule(conn, "case-1", "deadline_breached", past)
        await timers.schedule(conn, "case-2", "deadline_breached", past + timedelta(days=30))

    async def fire(timer: DueTimer, worker: str) -> None:
        async with pool.acquire() as conn:
            await timers.mark_fired(conn, timer.id, worker)

    scheduler = TimerScheduler(pool, timers, fire, lambda: datetime.now(UTC))
    assert await scheduler.report_due() == 2
    assert _value("qyzmet_timers_due", schema=schema) == 2
    assert await scheduler.fire_due() == 2
    assert _value("qyzmet_timers_fired_total", schema=schema, kind="deadline_approaching") == 1
    assert _value("qyzmet_deadline_breaches_total", schema=schema, kind="deadline_breached") == 1
    assert _value("qyzmet_deadline_breaches_total", schema=schema, kind="deadline_approaching") == 0
    assert await scheduler.report_due() == 0
