"""`qyzmet topics read` stops at the topic's end: it reads up to the end offsets it fetched first and
never waits for more records (an empty topic answers at once, saying so on stderr)."""

from __future__ import annotations

import argparse
import asyncio

import pytest
from aiokafka import AIOKafkaProducer

from shared.cli import topics
from shared.cli.topics import read_headers
from shared.infra import KafkaHandle
from shared.messaging.topics import TopicSpec, ensure_topics

NEVER = 3600.0
"""A stall guard longer than the test's own timeout: a read that waits for more records than the
topic holds hangs until pytest-timeout fails the test."""


async def _send(bootstrap: str, topic: str, keys: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for key in keys:
            await producer.send_and_wait(topic, value=b"{}", key=key, headers=[("ce_type", b"test.v1")])
    finally:
        await producer.stop()


@pytest.mark.timeout(120)
def test_a_read_ends_at_the_end_offsets_without_waiting_for_more(
    broker: KafkaHandle, topic_prefix: str
) -> None:
    empty, filled = topic_prefix + "empty.v1", topic_prefix + "filled.v1"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(empty, 3), TopicSpec(filled, 3)])
    assert read_headers(broker.bootstrap_servers, empty, 10, timeout_s=NEVER) == []
    keys = [f"key-{n}".encode() for n in range(5)]
    asyncio.run(_send(broker.bootstrap_servers, filled, keys))
    rows = read_headers(broker.bootstrap_servers, filled, 10, timeout_s=NEVER)  # fewer than --max
    assert sorted(row["key"] for row in rows) == [key.decode() for key in keys]
    assert all(row["ce_type"] == "test.v1" for row in rows)
    assert len(read_headers(broker.bootstrap_servers, filled, 2, timeout_s=NEVER)) == 2


@pytest.mark.timeout(120)
def test_reading_an_empty_topic_says_no_records_on_stderr(
    broker: KafkaHandle,
    topic_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic_prefix + "empty.v1", 1)])
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", broker.bootstrap_servers)
    monkeypatch.setenv("TOPIC_PREFIX", topic_prefix)
    assert topics._read(argparse.Namespace(topic="empty.v1", max=100)) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert "no records" in err and "empty.v1" in err
