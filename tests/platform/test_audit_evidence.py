"""`qyzmet audit verify` does not pass a chain on less evidence than it was told to read: when
audit.v1 cannot be read it fails with its own exit status (4) unless the operator accepts that
with `--allow-missing-evidence`; and a tail cut after the last kept anchor is still seen from
the records the topic holds."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from shared.audit import AuditLog
from shared.audit.chain_macs import ChainMacs
from shared.audit.published import published_audit
from shared.cli.audit import EVIDENCE_MISSING_EXIT
from shared.infra import KafkaHandle
from shared.infra.procs import free_port
from shared.messaging.topics import TopicSpec, ensure_topics
from tests.platform.audit_helpers import audit_topic_for_cli, relay_round
from tests.platform.test_audit_cli import qyzmet
from tests.platform.test_audit_log import KEY, fill
from tests.platform.test_audit_tamper import tamper


@pytest.fixture(autouse=True)
def audit_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QYZMET_AUDIT_KEY", KEY.secret.decode())


async def test_a_tail_cut_after_the_last_kept_anchor_fails_verify_when_the_topic_cannot_be_read(
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
    anchors = tmp_path / "anchors.jsonl"
    await fill(pool, log, 5, "office-a")
    assert await relay_round(pool, schema, broker.bootstrap_servers, topic)
    code, out, _ = await qyzmet(capsys, "verify", "--schema", schema, "--anchors", str(anchors))
    assert code == 0, out  # the anchor of record 5 is now kept in the file

    await fill(pool, log, 2, "office-a")  # records 6 and 7: published, not yet anchored
    await relay_round(pool, schema, broker.bootstrap_servers, topic, anchors=False)
    await tamper(pool, f"DELETE FROM {schema}.audit_log WHERE chain = 'office-a' AND seq >= 6")

    code, out, _ = await qyzmet(capsys, "verify", "--schema", schema, "--anchors", str(anchors))
    assert code == 1
    assert f"{schema}/office-a: BROKEN at record 6: records 6..7 are missing" in out

    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{free_port()}")  # nobody listens
    code, out, err = await qyzmet(capsys, "verify", "--schema", schema, "--anchors", str(anchors))
    assert code == EVIDENCE_MISSING_EXIT, out + err
    assert "EVIDENCE MISSING" in err
    code, out, err = await qyzmet(
        capsys, "verify", "--schema", schema, "--anchors", str(anchors), "--allow-missing-evidence"
    )
    assert code == 0, out + err  # the operator's explicit choice; still said
    assert "EVIDENCE MISSING" in err
    code, _, _ = await qyzmet(capsys, "verify", "--schema", schema, "--anchors", str(anchors), "--no-kafka")
    assert code == 0  # not reading the topic was asked for


async def test_the_topic_is_folded_into_macs_by_chain_as_it_is_read(
    pool: asyncpg.Pool, schema: str, broker: KafkaHandle, topic_prefix: str
) -> None:
    topic = topic_prefix + "audit.v1"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 2)])
    log = AuditLog(schema, KEY)
    await fill(pool, log, 3, "office-a")
    await fill(pool, log, 2, "office-b")
    assert await relay_round(pool, schema, broker.bootstrap_servers, topic)
    await relay_round(pool, schema, broker.bootstrap_servers, topic, anchors=False)  # nothing new
    published = await asyncio.to_thread(published_audit, broker.bootstrap_servers, topic)
    chains = published.of_schema(schema)
    assert sorted(chains) == ["office-a", "office-b"]
    async with pool.acquire() as conn:
        records = [r async for r in log.records(conn, "office-a")]
    assert chains["office-a"].by_seq == {r.seq: r.hash for r in records}
    assert published.record_count == 5
    assert sorted((a.chain, a.seq) for a in published.anchors) == [("office-a", 3), ("office-b", 2)]
    macs = ChainMacs()
    macs.add(1, "aa")
    macs.add(1, "bb")  # a second MAC for one seq is kept: it proves a rewrite
    assert macs.hashes(1) == {"aa", "bb"} and macs.hashes(2) == set()
