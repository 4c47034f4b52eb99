"""The records published on audit.v1 are evidence too: every record reaches the topic within about
a second, so a cut or rewrite inside the anchor interval is found, and a record the topic never
got is flagged unpublished."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from shared.audit import AuditLog, verify_schema
from shared.audit.anchors import PublishedRecord
from shared.audit.verify import VerificationResult
from shared.infra import KafkaHandle
from shared.messaging.kafka import make_producer
from shared.messaging.topics import TopicSpec, ensure_topics
from tests.platform.test_audit_cli import qyzmet
from tests.platform.test_audit_log import KEY, fill
from tests.platform.test_audit_tamper import OFFICE, anchor_now, tamper


async def published_now(pool: asyncpg.Pool, schema: str, chain: str = OFFICE) -> list[PublishedRecord]:
    async with pool.acquire() as conn:
        return [
            PublishedRecord(schema, r.chain, r.seq, r.hash, r.recorded_at.isoformat())
            async for r in AuditLog(schema, KEY).records(conn, chain)
        ]


async def verify(pool: asyncpg.Pool, schema: str, **kwargs: object) -> VerificationResult:
    async with pool.acquire() as conn:
        return await verify_schema(conn, schema, KEY, **kwargs)  # type: ignore[arg-type]


async def test_a_tail_cut_inside_the_anchor_interval_is_found_by_the_published_records(
    pool: asyncpg.Pool, schema: str
) -> None:
    await fill(pool, AuditLog(schema, KEY), 3)
    anchor = await anchor_now(pool, schema)
    await fill(pool, AuditLog(schema, KEY), 2)
    published = await published_now(pool, schema)
    await tamper(pool, f"DELETE FROM {schema}.audit_log WHERE chain = '{OFFICE}' AND seq = 5")
    assert (await verify(pool, schema, anchors=[anchor])).ok  # the anchor alone cannot tell
    result = await verify(pool, schema, anchors=[anchor], published=published)
    assert [(b.schema, b.chain, b.seq) for b in result.breaks] == [(schema, OFFICE, 5)]
    assert "published on audit.v1" in (result.reason or "") and "cut off" in (result.reason or "")


async def test_a_cut_and_regrown_record_differs_from_the_published_one(
    pool: asyncpg.Pool, schema: str
) -> None:
    log = AuditLog(schema, KEY)
    await fill(pool, log, 5)
    published = await published_now(pool, schema)
    await tamper(pool, f"DELETE FROM {schema}.audit_log WHERE chain = '{OFFICE}' AND seq >= 4")
    await fill(pool, log, 2)
    result = await verify(pool, schema, published=published)
    assert [(b.chain, b.seq) for b in result.breaks] == [(OFFICE, 4)]
    assert "differs from the record published on audit.v1" in (result.reason or "")


async def test_an_old_record_the_topic_never_got_is_flagged_unpublished(
    pool: asyncpg.Pool, schema: str
) -> None:
    await fill(pool, AuditLog(schema, KEY), 3)
    published = (await published_now(pool, schema))[:2]
    result = await verify(pool, schema, published=published, unpublished_after=timedelta(0))
    assert result.ok  # not a break: the relay may be behind or down
    (chain,) = result.chains
    assert (chain.unpublished, chain.first_unpublished_seq) == (1, 3)
    fresh = await verify(pool, schema, published=published, unpublished_after=timedelta(hours=1))
    assert fresh.chains[0].unpublished == 0  # still within the relay's interval
    unread = await verify(pool, schema, unpublished_after=timedelta(0))
    assert unread.chains[0].unpublished == 0  # the topic not read: nothing to say


async def test_verify_reads_the_published_records_from_the_topic(
    pool: asyncpg.Pool,
    schema: str,
    broker: KafkaHandle,
    topic_prefix: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from shared.audit.relay import AuditRelay

    monkeypatch.setenv("QYZMET_AUDIT_KEY", KEY.secret.decode())
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrap_servers)
    monkeypatch.setenv("TOPIC_PREFIX", topic_prefix)
    topic = topic_prefix + "audit.v1"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 2)])
    log = AuditLog(schema, KEY)
    await fill(pool, log, 3)
    producer = make_producer(broker.bootstrap_servers, idempotent=False)
    await producer.start()
    try:
        relay = AuditRelay(pool, schema, producer, topic, anchor_interval_s=60)
        async with pool.acquire() as conn:
            await relay.publish_records(conn)
            await relay.publish_anchors(conn)  # anchored at 3
        await fill(pool, log, 2)
        async with pool.acquire() as conn:
            assert await relay.publish_records(conn) == 2  # 4 and 5 published, not anchored yet
    finally:
        await producer.stop()
    await tamper(pool, f"DELETE FROM {schema}.audit_log WHERE seq = 5")
    anchors = tmp_path / "anchors.jsonl"
    code, out, _ = await asyncio.wait_for(
        qyzmet(capsys, "verify", "--schema", schema, "--anchors", str(anchors)), 120
    )
    assert code == 1, out
    assert f"{schema}/{OFFICE}: BROKEN at record 5:" in out and "published on audit.v1" in out
