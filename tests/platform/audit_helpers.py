"""What the audit relay and verify tests share: this test's audit.v1 for the CLI, and one relay round."""

from __future__ import annotations

import asyncpg
import pytest

from shared.audit.anchors import Anchor
from shared.audit.relay import AuditRelay
from shared.infra import KafkaHandle
from shared.messaging.kafka import make_producer
from shared.messaging.topics import TopicSpec, ensure_topics


def audit_topic_for_cli(monkeypatch: pytest.MonkeyPatch, broker: KafkaHandle, topic_prefix: str) -> str:
    """This test's audit.v1 (two partitions), made, and named to `qyzmet audit` by its environment."""
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrap_servers)
    monkeypatch.setenv("TOPIC_PREFIX", topic_prefix)
    topic = topic_prefix + "audit.v1"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 2)])
    return topic


async def relay_round(
    pool: asyncpg.Pool, schema: str, bootstrap: str, topic: str, *, anchors: bool = True
) -> list[Anchor]:
    """One round of an audit relay: the records not published yet, then (with `anchors`) an anchor
    of every chain that grew; the anchors it published."""
    producer = make_producer(bootstrap, idempotent=False)
    await producer.start()
    try:
        relay = AuditRelay(pool, schema, producer, topic, anchor_interval_s=1)
        async with pool.acquire() as conn:
            await relay.publish_records(conn)
            return await relay.publish_anchors(conn) if anchors else []
    finally:
        await producer.stop()
