"""`qyzmet infra up|down|status` really detaches servers, reuses them, and stops them cleanly."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.infra import free_port, infra_down, infra_up
from shared.infra.procs import group_members, pid_alive, port_accepts

MACHINE_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _quiet(_message: str) -> None:
    pass


def _qyzmet() -> list[str]:
    script = Path(sys.executable).with_name("qyzmet")
    return [str(script)] if script.exists() else [sys.executable, "-m", "shared.cli.main"]


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "data"
    yield path
    # Whatever happened in the test, leave no server behind.
    infra_down(path, say=_quiet)


@pytest.fixture
def cli_env(data_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_LOCAL_BROKER", "KAFKA_LOCAL_PORT", "EMBEDDED_PG_PORT")
    }
    env["QYZMET_DATA_DIR"] = str(data_dir)
    env["DATABASE_URL"] = MACHINE_URL
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_qyzmet(), "infra", *args], env=env, capture_output=True, text=True, timeout=90, check=False
    )


def _parse_exports(stdout: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for line in stdout.splitlines():
        words = shlex.split(line)
        assert words[0] == "export", f"stdout must hold only export lines, got {line!r}"
        key, _, value = words[1].partition("=")
        result[key] = value
    return result


async def _produce(bootstrap: str, topic: str, value: bytes) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()


async def _read_all(bootstrap: str, topic: str, count: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    got: list[bytes] = []
    try:
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.seek_to_beginning()
        async with asyncio.timeout(20):
            while len(got) < count:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    got.extend(r.value for r in records if r.value is not None)
    finally:
        await consumer.stop()
    return got


async def test_cli_up_reuse_down_and_restart_keeps_events(data_dir: Path, cli_env: dict[str, str]) -> None:
    port = free_port()
    up = _run(["up", "--kafka-port", str(port)], cli_env)
    assert up.returncode == 0, up.stderr
    exports = _parse_exports(up.stdout)
    assert exports == {"DATABASE_URL": MACHINE_URL, "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{port}"}
    assert "kafka: started noida" in up.stderr

    state = json.loads((data_dir / "infra.json").read_text())
    kafka = state["kafka"]
    assert state["postgres"] == {"kind": "external", "url": MACHINE_URL}
    assert kafka["kind"] == "noida" and kafka["port"] == port
    assert Path(kafka["data_dir"]) == (data_dir / "kafka").resolve()
    # The broker outlived the command that started it.
    assert pid_alive(kafka["pid"]) and port_accepts(port)

    topic = f"infra.cli.{uuid.uuid4().hex[:8]}"
    await _produce(exports["KAFKA_BOOTSTRAP_SERVERS"], topic, b"survives a restart")

    again = _run(["up", "--kafka-port", str(port)], cli_env)
    assert again.returncode == 0, again.stderr
    assert again.stdout == up.stdout
    assert "already running" in again.stderr
    assert json.loads((data_dir / "infra.json").read_text())["kafka"]["pid"] == kafka["pid"]

    status = _run(["status", "--json"], cli_env)
    assert json.loads(status.stdout)["kafka"]["running"] is True

    down = _run(["down"], cli_env)
    assert down.returncode == 0, down.stderr
    assert not pid_alive(kafka["pid"])
    assert group_members(kafka["pgid"]) == []
    assert not port_accepts(port)
    assert not (data_dir / "infra.json").exists()

    restarted = _run(["up", "--kafka-port", str(port)], cli_env)
    assert restarted.returncode == 0, restarted.stderr
    assert restarted.stdout == up.stdout
    new_pid = json.loads((data_dir / "infra.json").read_text())["kafka"]["pid"]
    assert new_pid != kafka["pid"]
    assert await _read_all(f"127.0.0.1:{port}", topic, 1) == [b"survives a restart"]

    assert _run(["down"], cli_env).returncode == 0
    assert not pid_alive(new_pid)
    assert group_members(new_pid) == []


def test_cli_up_reports_a_taken_port(cli_env: dict[str, str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = _run(["up", "--kafka-port", str(port)], cli_env)
    assert result.returncode == 1
    assert result.stdout == ""
    assert f"port {port}" in result.stderr and "already in use" in result.stderr


async def test_embedded_postgres_restart_keeps_data(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """infra_up with the embedded server (no DATABASE_URL): data survives down + up."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    pg_port, kafka_port = free_port(), free_port()

    first = infra_up(data_dir, pg_port=pg_port, kafka_port=kafka_port, say=_quiet)
    assert first.database_url == f"postgresql://postgres@127.0.0.1:{pg_port}/qyzmet"
    conn = await asyncpg.connect(first.database_url, timeout=10)
    try:
        await conn.execute("CREATE TABLE kept (v text)")
        await conn.execute("INSERT INTO kept VALUES ('still here')")
    finally:
        await conn.close()
    pid = json.loads((data_dir / "infra.json").read_text())["postgres"]["pid"]

    infra_down(data_dir, say=_quiet)
    assert not pid_alive(pid)
    assert not port_accepts(pg_port)

    second = infra_up(data_dir, pg_port=pg_port, kafka_port=kafka_port, say=_quiet)
    assert second == first
    conn = await asyncpg.connect(second.database_url, timeout=10)
    try:
        assert await conn.fetchval("SELECT v FROM kept") == "still here"
    finally:
        await conn.close()


def test_an_external_database_password_is_handed_on_but_never_written_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`infra.json` (and `qyzmet infra status`) keep the given DATABASE_URL without its password;
    the processes started with it still get the URL as given."""
    given = "postgresql://admin:s3cr3t-pw@db.example:5432/qyzmet?sslmode=require&password=s3cr3t-pw"
    monkeypatch.setenv("DATABASE_URL", given)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka.example:9092")
    infra = infra_up(tmp_path / "data", say=_quiet)
    assert infra.database_url == given
    written = (tmp_path / "data" / "infra.json").read_text(encoding="utf-8")
    assert "s3cr3t-pw" not in written
    assert (
        json.loads(written)["postgres"]["url"] == "postgresql://admin@db.example:5432/qyzmet?sslmode=require"
    )
