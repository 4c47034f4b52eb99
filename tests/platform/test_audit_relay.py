"""The audit relay publishes every record of every chain on audit.v1 in chain order, and
anchors of the chains that grew; one relay per schema leads, a second one waits."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict

import asyncpg
from aiokafka import AIOKafkaConsumer

from shared.audit import AuditLog
from shared.audit.published import published_anchors
from shared.audit.relay import AuditRelay
from shared.infra import KafkaHandle
from shared.messaging.kafka import make_producer
from shared.messaging.topics import TopicSpec, ensure_topics
from tests.platform.test_audit_log import KEY, fill


async def read_topic(
    bootstrap: str, topic: str, expected: int, timeout_s: float = 30
) -> list[dict[str, object]]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    out: list[dict[str, object]] = []
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while len(out) < expected and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                out += [json.loads(record.value) for record in records]
    finally:
        await consumer.stop()
    return out


async def test_records_and_anchors_reach_the_topic_and_one_relay_leads(
    pool: asyncpg.Pool, schema: str, broker: KafkaHandle, topic_prefix: str
) -> None:
    topic = topic_prefix + "audit.v1"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 3)])
    log = AuditLog(schema, KEY)
    await fill(pool, log, 7, "office-a")
    await fill(pool, log, 4, "office-b")
    producer = make_producer(broker.bootstrap_servers, idempotent=False)
    await producer.start()
    stop = asyncio.Event()
    relays = [AuditRelay(pool, schema, producer, topic, anchor_interval_s=0.2, poll_s=0.1) for _ in range(2)]
    tasks = [asyncio.create_task(relay.run(stop)) for relay in relays]
    try:
        await read_topic(broker.bootstrap_servers, topic, 11 + 2)
        await fill(pool, log, 2, "office-a")  # grows: published, and anchored again
        for _ in range(300):
            anchors = await asyncio.to_thread(published_anchors, broker.bootstrap_servers, topic)
            if ("office-a", 9) in {(a.chain, a.seq) for a in anchors}:
                break
            await asyncio.sleep(0.1)
        seen = await read_topic(broker.bootstrap_servers, topic, 11 + 2 + 2 + 1)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        await producer.stop()
    records: dict[str, list[int]] = defaultdict(list)
    for message in seen:
        if message["kind"] == "audit.record":
            records[str(message["chain"])].append(int(message["seq"]))  # type: ignore[call-overload]
    assert {chain: sorted(set(seqs)) for chain, seqs in records.items()} == {
        "office-a": list(range(1, 10)),
        "office-b": list(range(1, 5)),
    }
    assert all(seqs == sorted(seqs) for seqs in records.values())  # in chain order on one partition
    assert sum(map(len, records.values())) == 13  # each once: the second relay never led meanwhile
    heads = {(a.chain, a.seq) for a in anchors}
    assert {("office-a", 7), ("office-b", 4), ("office-a", 9)} <= heads
    async with pool.acquire() as conn:
        assert (await log.verify(conn, anchors)).ok


async def test_an_advisory_lock_does_not_stop_the_relay_and_a_held_relay_lock_is_reported(
    pool: asyncpg.Pool, schema: str, broker: KafkaHandle, topic_prefix: str
) -> None:
    """Any role may take an advisory lock, so the relay locks a row of its own schema instead
    (SKIP LOCKED); a relay kept from that row for long says so, in the log and a metric."""
    from prometheus_client import REGISTRY
    from structlog.testing import capture_logs

    topic = topic_prefix + "audit.v1"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 1)])
    await fill(pool, AuditLog(schema, KEY), 3, "office-a")
    producer = make_producer(broker.bootstrap_servers, idempotent=False)
    await producer.start()
    try:
        relay = AuditRelay(pool, schema, producer, topic, anchor_interval_s=60, lock_warn_after_s=0.2)
        async with pool.acquire() as squatter:
            await squatter.execute("SELECT pg_advisory_lock(hashtext($1))", f"audit-relay:{schema}")
            try:
                assert await relay.run_once() == 3  # the advisory lock holds nothing up
            finally:
                await squatter.execute("SELECT pg_advisory_unlock_all()")
            await fill(pool, AuditLog(schema, KEY), 1, "office-a")
            async with squatter.transaction():  # another relay (or its role) holds the row
                await squatter.execute(f"SELECT 1 FROM {schema}.audit_relay_lock FOR UPDATE")
                with capture_logs() as logs:
                    assert await relay.run_once() == 0
                    await asyncio.sleep(0.3)
                    assert await relay.run_once() == 0
            assert [e for e in logs if e["event"] == "audit relay cannot get its lock"]
            waited = REGISTRY.get_sample_value("qyzmet_audit_relay_lock_wait_seconds", {"schema": schema})
            assert waited is not None and waited >= 0.2
            assert await relay.run_once() == 1  # the row free again: it leads
            assert REGISTRY.get_sample_value("qyzmet_audit_relay_lock_wait_seconds", {"schema": schema}) == 0
    finally:
        await producer.stop()
