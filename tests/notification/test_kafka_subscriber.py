"""A ЦОН system subscribed to decisions.v1 over Kafka: its own consumer group, the decision
service's relay as publisher, and a filter on the `ce_region` header (no body parsed to filter)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer

from shared.contracts.decisions import DecisionMade
from shared.contracts.routes import route_for
from shared.eventstore import EventStore
from shared.infra import KafkaHandle
from shared.messaging.envelope import decode
from shared.messaging.kafka import make_producer
from shared.messaging.relay import OutboxRelay
from shared.messaging.topics import TopicSpec, ensure_topics
from shared.service_layer.streams import new_event
from tests.roles import provisioned_schema

from .events import decided, submitted


@pytest.fixture
async def decision_schema(admin_pool: asyncpg.Pool) -> AsyncIterator[str]:
    """The publishing decision service's schema, granted to qyzmet_decision."""
    async with provisioned_schema(admin_pool, "decision", "tds") as name:
        yield name


async def test_a_tson_consumer_group_reads_decisions_of_its_region_from_the_header(
    decision_pool: asyncpg.Pool, decision_schema: str, broker: KafkaHandle, topic_prefix: str
) -> None:
    pool, schema = decision_pool, decision_schema  # the decision service's store and relay, as its role
    bootstrap = broker.bootstrap_servers
    topics = [topic_prefix + t for t in ("decisions.v1", "inspections.v1")]
    ensure_topics(bootstrap, [TopicSpec(t, 3) for t in topics])
    made = {
        "astana": [decided(submitted(region="astana")) for _ in range(3)],
        "akmola": [decided(submitted(region="akmola", office_id="akmola-1")) for _ in range(2)],
    }
    store = EventStore(schema)
    async with pool.acquire() as conn:
        for region, events in made.items():
            for event in events:
                metadata = {"region": region, "office": event.office_id, "actor": "head-1"}
                await store.append(conn, f"case-{event.application_id}", [new_event(event, metadata)], None)
    producer = make_producer(bootstrap, idempotent=broker.kind != "tansu")
    await producer.start()
    try:
        relay = OutboxRelay(
            pool, store, producer, route_for("decision", topic_prefix), source="/qyzmet/decision"
        )
        published = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while published < 5:  # the gap-safe reader waits for transactions open anywhere in the cluster
            assert loop.time() < deadline, "the relay published nothing"
            published += await relay.drain()
            await asyncio.sleep(0.05)
        assert published == 5
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic_prefix + "decisions.v1",
        bootstrap_servers=bootstrap,
        group_id=topic_prefix + "tson-astana-decisions",  # the subscriber's own group
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    mine: list[DecisionMade] = []
    seen = 0
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while seen < 5:
            assert loop.time() < deadline, "timed out"
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    seen += 1
                    headers = dict(record.headers)
                    if headers.get("ce_region") != b"astana":
                        continue  # filtered on the header alone
                    envelope = decode(record.value, list(record.headers))
                    assert envelope.type == DecisionMade.ce_type()
                    mine.append(DecisionMade.model_validate(envelope.data))
            await consumer.commit()
    finally:
        await consumer.stop()
    assert sorted(e.application_id for e in mine) == sorted(e.application_id for e in made["astana"])
    assert {e.region for e in mine} == {"astana"}
