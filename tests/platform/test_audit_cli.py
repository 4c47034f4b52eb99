"""`qyzmet audit verify` and `qyzmet audit export` through the real entry point: the relay's
anchors on audit.v1 are kept outside the database and reveal a truncated tail."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from shared.audit import AuditLog
from shared.audit.published import published_anchors
from shared.cli.main import main
from shared.infra import KafkaHandle
from shared.messaging.topics import TopicSpec, ensure_topics
from tests.platform.audit_helpers import audit_topic_for_cli, relay_round
from tests.platform.test_audit_log import KEY, entry, fill
from tests.platform.test_audit_tamper import tamper


@pytest.fixture(autouse=True)
def audit_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QYZMET_AUDIT_KEY", KEY.secret.decode())


async def qyzmet(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, ["audit", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def test_verify_finds_a_cut_off_tail_by_the_anchors_on_the_topic(
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
    await fill(pool, log, 5, "office-a")
    await fill(pool, log, 2, "office-b")
    assert len(await relay_round(pool, schema, broker.bootstrap_servers, topic)) == 2  # office-a and -b
    assert await relay_round(pool, schema, broker.bootstrap_servers, topic) == []  # nothing grew since
    anchors = tmp_path / "anchors.jsonl"

    code, out, _ = await qyzmet(capsys, "verify", "--schema", schema, "--anchors", str(anchors))
    assert code == 0, out
    assert f"{schema}/office-a: intact (5 records, 1 anchors and 5 published records matched)" in out
    assert len(anchors.read_text().splitlines()) == 2  # kept outside the database

    await tamper(pool, f"DELETE FROM {schema}.audit_log WHERE chain = 'office-a' AND seq >= 4")
    code, out, _ = await qyzmet(capsys, "verify", "--schema", schema, "--anchors", str(anchors), "--no-kafka")
    assert code == 1
    assert f"{schema}/office-a: BROKEN at record 4: records 4..5 are missing" in out
    assert f"{schema}/office-b: intact" in out
    code, out, _ = await qyzmet(
        capsys, "verify", "--schema", schema, "--json", "--anchors", str(tmp_path / "x")
    )
    broken = [c["broken"] for c in json.loads(out) if c["broken"]]
    assert code == 1 and broken == [
        {"schema": schema, "chain": "office-a", "seq": 4, "reason": broken[0]["reason"]}
    ]  # from the topic alone, read from offset 0


async def test_verify_without_arguments_checks_every_schema(
    pool: asyncpg.Pool,
    schema: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("QYZMET_DATA_DIR", str(tmp_path))  # no running system from here: no broker
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    await fill(pool, AuditLog(schema, KEY), 3, "office-a")
    await tamper(pool, f"UPDATE {schema}.audit_log SET subject = 'x' WHERE seq = 2")
    code, out, _ = await qyzmet(capsys, "verify")
    assert code == 1
    assert f"{schema}/office-a: BROKEN at record 2: its content does not match its MAC" in out


async def test_export_streams_a_period_filtered_by_office_and_actor(
    pool: asyncpg.Pool, schema: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    log = AuditLog(schema, KEY)
    start = datetime.now(UTC) - timedelta(seconds=1)
    await fill(pool, log, 4, "office-a")
    await fill(pool, log, 2, "office-b")
    async with pool.acquire() as conn:
        await log.append(conn, entry(7, "office-a"))
    end = datetime.now(UTC) + timedelta(seconds=1)
    period = ["--from", start.isoformat(), "--to", end.isoformat(), "--schema", schema]

    code, out, _ = await qyzmet(capsys, "export", *period, "--office", "office-a")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(rows) == 5 and {r["office"] for r in rows} == {"office-a"}
    assert {
        "actor",
        "role",
        "office",
        "action",
        "subject",
        "recorded_at",
        "correlation_id",
        "outcome",
    } <= set(rows[0])
    code, out, _ = await qyzmet(capsys, "export", *period, "--actor", "user-1", "--format", "csv")
    table = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [(r["office"], r["actor"]) for r in table] == [
        ("office-a", "user-1"),
        ("office-b", "user-1"),
    ]
    code, out, _ = await qyzmet(
        capsys, "export", "--from", end.isoformat(), "--to", end.isoformat(), "--schema", schema
    )
    assert code == 0 and out == ""


async def test_publish_sends_what_no_worker_relays_and_anchors_it(
    pool: asyncpg.Pool,
    schema: str,
    broker: KafkaHandle,
    topic_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The catalog's chain (parameter changes by `qyzmet params set`) has no worker: commands publish it."""
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrap_servers)
    monkeypatch.setenv("TOPIC_PREFIX", topic_prefix)
    topic = topic_prefix + "audit.v1"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 2)])
    await fill(pool, AuditLog(schema, KEY), 3, None)
    code, _, err = await qyzmet(capsys, "publish", "--schema", schema)
    assert code == 0 and "3 records and 1 anchors published" in err
    code, _, err = await qyzmet(capsys, "publish", "--schema", schema)
    assert code == 0 and "0 records and 0 anchors published" in err
    anchors = await asyncio.to_thread(published_anchors, broker.bootstrap_servers, topic)
    assert [(a.schema, a.chain, a.seq) for a in anchors] == [(schema, "-", 3)]


async def test_verify_without_any_anchor_says_the_chain_is_not_anchored(
    pool: asyncpg.Pool,
    schema: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """The broker away and an empty anchor file: a cut tail could not be seen, so no 'intact' and no 0."""
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("QYZMET_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    await fill(pool, AuditLog(schema, KEY), 3, "office-a")
    await tamper(pool, f"DELETE FROM {schema}.audit_log WHERE seq = 3")  # a cut tail nothing can see
    anchors = tmp_path / "empty.jsonl"
    anchors.write_text("")
    code, out, _ = await qyzmet(capsys, "verify", "--schema", schema, "--anchors", str(anchors))
    assert code == 3, out
    assert f"{schema}/office-a: NOT ANCHORED (2 records, no anchor covers them" in out
    assert "intact" not in out
    code, out, _ = await qyzmet(capsys, "verify", "--schema", schema, "--anchors", str(anchors), "--json")
    assert code == 3 and [c["anchored"] for c in json.loads(out)] == [False]
    code, out, _ = await qyzmet(
        capsys, "verify", "--schema", schema, "--anchors", str(anchors), "--allow-unanchored"
    )
    assert code == 0, out
    assert f"{schema}/office-a: NOT ANCHORED (2 records" in out


async def test_verify_keeps_anchors_in_the_running_systems_data_folder(
    pool: asyncpg.Pool,
    schema: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """From another folder, with no QYZMET_DATA_DIR: the anchor file is the running system's."""
    import os

    from shared.audit.anchors import keep_anchors
    from shared.runtime.running import RunningSystem, record_running
    from tests.platform.test_audit_tamper import anchor_now

    elsewhere, system = tmp_path / "elsewhere", tmp_path / "system"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("QYZMET_DATA_DIR", raising=False)
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    record_running(RunningSystem(os.getpid(), str(system), "127.0.0.1:1"))
    await fill(pool, AuditLog(schema, KEY), 3, "office-a")
    keep_anchors(system / "audit_anchors.jsonl", [await anchor_now(pool, schema, "office-a")])
    await tamper(pool, f"DELETE FROM {schema}.audit_log WHERE seq = 3")
    code, out, _ = await qyzmet(capsys, "verify", "--schema", schema, "--no-kafka")
    assert code == 1, out
    assert f"{schema}/office-a: BROKEN at record 3: records 3..3 are missing" in out
    assert not (elsewhere / ".data").exists()
