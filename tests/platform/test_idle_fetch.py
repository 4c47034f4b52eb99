"""An idle consumer waits between empty fetches, even against a broker that answers an empty
fetch at once (noida-db ignores fetch.max.wait.ms): issue 14, an idle worker burnt ~0.9 core."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from typing import Any

from aiokafka.protocol.fetch import FetchRequest

from shared.infra import KafkaHandle
from shared.messaging import fetch_wait
from shared.messaging.kafka import make_consumer, make_producer
from shared.messaging.topics import TopicSpec, ensure_topics

IDLE_S = 2.0


async def _fetches_while_idle(consumer: Any, seconds: float) -> int:
    client = consumer._client
    sent = 0
    original = client.send

    async def counting(node_id: int, request: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal sent
        if isinstance(request, FetchRequest) or type(request).__name__.startswith("FetchRequest"):
            sent += 1
        return await original(node_id, request, *args, **kwargs)

    client.send = counting
    try:
        await asyncio.sleep(seconds)
    finally:
        client.send = original
    return sent


async def test_an_idle_consumer_sends_a_bounded_number_of_fetches(broker: KafkaHandle) -> None:
    topic = f"idle-{uuid.uuid4().hex[:8]}"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 3)])
    consumer = make_consumer(broker.bootstrap_servers, [topic], group_id=topic + ".g", instance_id=None)
    await consumer.start()
    try:
        assert not await consumer.getmany(timeout_ms=3000)  # assigned, positions known, nothing there
        cpu_before = time.process_time()
        fetches = await _fetches_while_idle(consumer, IDLE_S)
        cpu = time.process_time() - cpu_before
    finally:
        await consumer.stop()
    # Empty fetches back off to one per 200 ms; a spinning fetcher sends thousands.
    assert fetches <= IDLE_S * 10, fetches
    assert cpu < 0.1 * IDLE_S, cpu


async def test_a_waiting_consumer_still_gets_a_new_record_promptly(broker: KafkaHandle) -> None:
    topic = f"idle-{uuid.uuid4().hex[:8]}"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 1)])
    consumer = make_consumer(broker.bootstrap_servers, [topic], group_id=topic + ".g", instance_id=None)
    producer = make_producer(broker.bootstrap_servers)
    await consumer.start()
    await producer.start()
    try:
        assert not await consumer.getmany(timeout_ms=3000)
        await asyncio.sleep(0.5)  # idle: the fetcher is between empty fetches
        latencies = []
        for _ in range(5):
            await producer.send_and_wait(topic, b"x")
            sent = time.monotonic()
            while not await consumer.getmany(timeout_ms=1000):
                pass
            latencies.append(time.monotonic() - sent)
            await asyncio.sleep(0.2)
    finally:
        await producer.stop()
        await consumer.stop()
    assert max(latencies) < 0.3, latencies


def test_pauses_stay_short_while_records_keep_coming_and_grow_once_idle() -> None:
    assert fetch_wait.longest_pause(0.0) == fetch_wait.BUSY_FETCH_WAIT_S
    assert fetch_wait.longest_pause(fetch_wait.ACTIVE_S - 0.01) == fetch_wait.BUSY_FETCH_WAIT_S
    assert fetch_wait.longest_pause(fetch_wait.ACTIVE_S) == fetch_wait.IDLE_FETCH_WAIT_S
    assert fetch_wait.longest_pause(math.inf) == fetch_wait.IDLE_FETCH_WAIT_S  # never got a record
    assert fetch_wait.BUSY_FETCH_WAIT_S < fetch_wait.IDLE_FETCH_WAIT_S


async def test_a_consumer_between_bursts_looks_again_sooner_than_an_idle_one(broker: KafkaHandle) -> None:
    """Right after records (an upstream relay publishing in bursts) empty fetches pause at most the
    busy cap: several times as many fetches in the same quiet second as an idle consumer sends."""
    topic = f"idle-{uuid.uuid4().hex[:8]}"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 1)])
    consumer = make_consumer(broker.bootstrap_servers, [topic], group_id=topic + ".g", instance_id=None)
    producer = make_producer(broker.bootstrap_servers)
    await consumer.start()
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"x")
        while not await consumer.getmany(timeout_ms=1000):
            pass
        between_bursts = await _fetches_while_idle(consumer, 1.0)
    finally:
        await producer.stop()
        await consumer.stop()
    # pauses doubling to IDLE_FETCH_WAIT_S allow ~9 fetches in that second; the busy cap ~25
    assert between_bursts >= 3 / fetch_wait.IDLE_FETCH_WAIT_S, between_bursts
