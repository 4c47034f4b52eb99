"""Anchoring stopped from inside the database (the service role holds `audit_relay_lock`: no
relay round runs) is itself reported by `qyzmet audit verify`: a tail cut after the last anchor
would otherwise verify intact."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from shared.audit import AuditLog
from shared.audit.anchors import read_anchor_file
from shared.audit.relay import AuditRelay
from shared.cli.audit import STALE_EXIT
from shared.infra import KafkaHandle
from shared.messaging.kafka import make_producer
from tests.platform.audit_helpers import audit_topic_for_cli
from tests.platform.test_audit_cli import qyzmet
from tests.platform.test_audit_log import KEY, fill
from tests.platform.test_audit_tamper import tamper


@pytest.fixture(autouse=True)
def audit_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QYZMET_AUDIT_KEY", KEY.secret.decode())


async def test_records_past_the_newest_anchor_for_longer_than_n_intervals_are_reported_stale(
    pool: asyncpg.Pool,
    schema: str,
    broker: KafkaHandle,
    topic_prefix: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    topic = audit_topic_for_cli(monkeypatch, broker, topic_prefix)
    log = AuditLog(schema, KEY)
    await fill(pool, log, 3, "office-a")
    producer = make_producer(broker.bootstrap_servers, idempotent=False)
    await producer.start()
    try:
        relay = AuditRelay(pool, schema, producer, topic, anchor_interval_s=0.001)
        assert await relay.run_once() == 3  # records 1..3, and the anchor of record 3
        async with pool.acquire() as holder, holder.transaction():
            # The service's role holds the relay's row: every round from now on does nothing.
            await holder.execute(f"SELECT * FROM {schema}.audit_relay_lock FOR UPDATE")
            await fill(pool, log, 4, "office-a")  # records 4..7
            assert await relay.run_once() == 0
            await asyncio.sleep(0.05)  # the records are older than the intervals set below
    finally:
        await producer.stop()
    await tamper(pool, f"DELETE FROM {schema}.audit_log WHERE chain = 'office-a' AND seq >= 6")
    argv = ["verify", "--schema", schema, "--anchors", str(tmp_path / "anchors.jsonl")]

    monkeypatch.setenv("QYZMET_AUDIT_ANCHOR_INTERVAL_S", "3600")
    monkeypatch.setenv("QYZMET_AUDIT_STALE_AFTER_INTERVALS", "10")
    code, out, _ = await qyzmet(capsys, *argv)
    assert code == 0, out  # within ten hours a record may wait for its anchor: no alarm yet
    assert f"{schema}/office-a: intact (5 records, 1 anchors and 3 published records matched)" in out

    monkeypatch.setenv("QYZMET_AUDIT_ANCHOR_INTERVAL_S", "0.001")  # 0.01 s: long passed
    code, out, _ = await qyzmet(capsys, *argv)
    assert code == STALE_EXIT, out
    (anchor,) = read_anchor_file(tmp_path / "anchors.jsonl")
    assert anchor.seq == 3
    assert f"{schema}/office-a: ANCHORING STALE since {anchor.time} (records 4..5 not anchored" in out
