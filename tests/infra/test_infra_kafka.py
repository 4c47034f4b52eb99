"""The Kafka half of shared.infra: local brokers really start, carry messages, and stop cleanly."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.infra import (
    BinaryNotFoundError,
    KafkaHandle,
    PortInUseError,
    ProcessExitedError,
    docker_available,
    free_port,
    start_kafka,
)
from shared.infra import kafka as kafka_mod
from shared.infra.procs import group_members, pid_alive


@pytest.fixture(autouse=True)
def _local_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_LOCAL_PORT", "KAFKA_LOCAL_BROKER"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def started() -> Iterator[list[KafkaHandle]]:
    """Handles to stop even if a test fails half-way."""
    handles: list[KafkaHandle] = []
    yield handles
    for handle in handles:
        handle.stop()


async def _create_topic(bootstrap: str, topic: str, partitions: int = 3) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    finally:
        await admin.close()


async def _produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for i, value in enumerate(values):
            await producer.send_and_wait(topic, value, key=f"k{i}".encode())
    finally:
        await producer.stop()


async def _consume_group(bootstrap: str, topic: str, count: int) -> list[bytes]:
    """Consume through a consumer group (join, assignment, fetch, commit)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"g-{uuid.uuid4().hex[:8]}",
        group_instance_id="infra-test-0",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=6000,
        heartbeat_interval_ms=2000,
    )
    await consumer.start()
    got: list[bytes] = []
    try:
        async with asyncio.timeout(30):
            while len(got) < count:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    got.extend(r.value for r in records if r.value is not None)
        await consumer.commit()
    finally:
        await consumer.stop()
    return got


async def _consume_assigned(bootstrap: str, topic: str, partitions: int, count: int) -> list[bytes]:
    """Read every partition from the beginning without a group (fast)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    got: list[bytes] = []
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
        await consumer.seek_to_beginning()
        async with asyncio.timeout(20):
            while len(got) < count:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    got.extend(r.value for r in records if r.value is not None)
    finally:
        await consumer.stop()
    return got


def _assert_gone(handle: KafkaHandle) -> None:
    assert handle.pgid is not None
    assert not pid_alive(handle.pid)
    assert group_members(handle.pgid) == []


@pytest.mark.parametrize("kind", ["noida", "tansu"])
async def test_local_broker_round_trip_and_clean_stop(
    kind: str, tmp_path: Path, started: list[KafkaHandle]
) -> None:
    t0 = time.monotonic()
    handle = start_kafka(tmp_path, kind=kind)  # type: ignore[arg-type]
    started.append(handle)
    print(f"{kind} ready in {time.monotonic() - t0:.2f}s at {handle.bootstrap_servers}")
    assert handle.kind == kind
    assert handle.owned
    assert handle.pgid == handle.pid
    assert handle.log_path is not None and handle.log_path.parent == handle.data_dir

    topic = f"infra.{kind}.{uuid.uuid4().hex[:8]}"
    await _create_topic(handle.bootstrap_servers, topic)
    values = [f"event-{i}".encode() for i in range(10)]
    await _produce(handle.bootstrap_servers, topic, values)
    got = await _consume_group(handle.bootstrap_servers, topic, len(values))
    assert sorted(got) == sorted(values)

    t1 = time.monotonic()
    handle.stop()
    print(f"{kind} stopped in {time.monotonic() - t1:.2f}s")
    _assert_gone(handle)
    handle.stop()  # idempotent


async def test_noida_keeps_events_across_restart(tmp_path: Path, started: list[KafkaHandle]) -> None:
    port = free_port()
    topic = f"infra.persist.{uuid.uuid4().hex[:8]}"
    values = [f"kept-{i}".encode() for i in range(5)]
    with start_kafka(tmp_path, kind="noida", port=port) as first:
        started.append(first)
        await _create_topic(first.bootstrap_servers, topic, partitions=2)
        await _produce(first.bootstrap_servers, topic, values)
    _assert_gone(first)

    second = start_kafka(tmp_path, kind="noida", port=port)
    started.append(second)
    assert second.pid != first.pid
    got = await _consume_assigned(second.bootstrap_servers, topic, 2, len(values))
    assert sorted(got) == sorted(values)


def test_port_taken_fails_fast_and_names_the_port(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        t0 = time.monotonic()
        with pytest.raises(PortInUseError) as info:
            start_kafka(tmp_path, kind="noida", port=port)
        assert time.monotonic() - t0 < 2.0
    message = str(info.value)
    assert str(port) in message
    assert "already in use" in message
    assert "something else listens" in message


def test_missing_binary_names_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "no-such-tansu"
    monkeypatch.setenv("CALF_TANSU_BIN", str(missing))
    with pytest.raises(BinaryNotFoundError, match="no-such-tansu"):
        start_kafka(tmp_path, kind="tansu")


def test_early_exit_reports_the_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crashing(kind: str, binary: Path, port: int, data_dir: Path) -> list[str]:
        return ["sh", "-c", "echo 'fatal: disk on fire' >&2; exit 3"]

    monkeypatch.setattr(kafka_mod, "_local_command", crashing)
    t0 = time.monotonic()
    with pytest.raises(ProcessExitedError) as info:
        start_kafka(tmp_path, kind="noida", port=free_port())
    assert time.monotonic() - t0 < 5.0
    assert "code 3" in str(info.value)
    assert "disk on fire" in str(info.value)


def test_env_bootstrap_servers_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker-a:9092,broker-b:9092")
    with start_kafka(tmp_path) as handle:
        assert handle.kind == "external"
        assert handle.bootstrap_servers == "broker-a:9092,broker-b:9092"
        assert not handle.owned
    assert not any(tmp_path.iterdir())


def test_unknown_local_broker_is_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_LOCAL_BROKER", "redpanda")
    monkeypatch.setenv("QYZMET_NO_DOCKER", "1")
    with pytest.raises(Exception, match="redpanda"):
        start_kafka(tmp_path)


def test_docker_probe_is_fast() -> None:
    docker_available.cache_clear()
    t0 = time.monotonic()
    answer = docker_available()
    assert isinstance(answer, bool)
    assert time.monotonic() - t0 < 5.0
