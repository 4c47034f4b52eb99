"""The local broker (noida-db) acknowledges records before they are on disk: a SIGKILL loses about
the last second of them (README, "Broker durability"). The relay must publish them again, so
that nothing the event store holds is missing from the topic; duplicates are acceptable.

Each test starts its own broker (own data directory and port) and kills it for real."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from shared.eventstore import EventStore, NewEvent
from shared.infra.kafka import KafkaHandle, start_local_broker
from shared.messaging.relay import OutboxRelay
from shared.messaging.topics import TopicSpec, ensure_topics
from tests.platform.relay_helpers import CountingFactory, first_copies_in_order, read_topic

STREAMS = 12


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[KafkaHandle]:
    handle = start_local_broker("noida", tmp_path)
    yield handle
    handle.stop()


def _sigkill(handle: KafkaHandle) -> None:
    assert handle.pgid is not None and handle._proc is not None
    os.killpg(handle.pgid, signal.SIGKILL)
    handle._proc.wait(timeout=10)
    handle._stopped = True  # nothing left to stop


async def _write(
    pool: asyncpg.Pool, store: EventStore, versions: dict[str, int], stop: asyncio.Event
) -> None:
    """One event every 10 ms, round robin over the streams, until `stop`."""
    i = 0
    async with pool.acquire() as conn:
        while not stop.is_set():
            stream = f"case-{i % STREAMS}"
            version = versions.get(stream, 0)
            await store.append(conn, stream, [NewEvent("test.happened", {"seq": version})], version)
            versions[stream] = version + 1
            i += 1
            await asyncio.sleep(0.01)


async def _caught_up(relay: OutboxRelay, timeout_s: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline and await relay.lag() > 0:
        await asyncio.sleep(0.1)
    assert await relay.lag() == 0


async def _store_order(pool: asyncpg.Pool, schema: str) -> dict[str, int]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(f"SELECT event_id::text, version FROM {schema}.events")
    return {r["event_id"]: r["version"] for r in rows}


@pytest.mark.parametrize("relay_busy", [True, False], ids=["busy", "idle"])
async def test_acknowledged_records_lost_by_a_sigkill_are_published_again(
    pool: asyncpg.Pool, schema: str, own_broker: KafkaHandle, tmp_path: Path, relay_busy: bool
) -> None:
    """busy: the broker dies while events keep coming; idle: it dies right after the relay
    published the last event (and moved its checkpoint), the next events come after its restart."""
    topic = "applications.v1"
    ensure_topics(own_broker.bootstrap_servers, [TopicSpec(topic, 3)])
    store = EventStore(schema)
    factory = CountingFactory(own_broker.bootstrap_servers)
    relay = OutboxRelay(
        pool, store, await factory(), lambda _: topic, source="/test", batch_size=50, producer_factory=factory
    )
    stop_writing, stop_relay = asyncio.Event(), asyncio.Event()
    versions: dict[str, int] = {}
    writer = asyncio.create_task(_write(pool, store, versions, stop_writing))
    relay_task = asyncio.create_task(relay.run(stop_relay, idle_sleep=0.01, max_backoff=0.5))
    restarted: KafkaHandle | None = None
    try:
        await asyncio.sleep(2.5)
        if not relay_busy:
            stop_writing.set()
            await writer
            await _caught_up(relay, 10)
        published_before_kill = relay.published
        _sigkill(own_broker)
        await asyncio.sleep(0.5)
        restarted = start_local_broker("noida", tmp_path, port=own_broker.port)
        if not relay_busy:
            stop_writing.clear()
            writer = asyncio.create_task(_write(pool, store, versions, stop_writing))
        await asyncio.sleep(2.0)
        stop_writing.set()
        await writer
        await _caught_up(relay, 60)
        stop_relay.set()
        await asyncio.wait_for(relay_task, 15)
        landed = await read_topic(restarted.bootstrap_servers, topic)
    finally:
        stop_writing.set()
        stop_relay.set()
        for task in (writer, relay_task):
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(task, 15)
        await factory.close()
        if restarted is not None:
            restarted.stop()

    order = await _store_order(pool, schema)
    missing = set(order) - {r.event_id for r in landed}
    assert published_before_kill > 100
    assert not missing, f"{len(missing)} events of {len(order)} never reached the topic"
    assert first_copies_in_order(landed, order) == []
    if relay_busy:  # (idle: the broker may have written its snapshot between the ack and the kill)
        assert relay.rewinds >= 1, "the broker lost nothing this time: the test proved nothing"


async def test_after_acknowledgement_timeouts_each_key_keeps_its_order(
    pool: asyncpg.Pool, schema: str, own_broker: KafkaHandle
) -> None:
    """The broker stops answering (SIGSTOP) for longer than the producer's request timeout while
    events keep coming; afterwards every event is on the topic and the first copies of each key
    are in stream order."""
    topic = "decisions.v1"
    ensure_topics(own_broker.bootstrap_servers, [TopicSpec(topic, 3)])
    store = EventStore(schema)
    factory = CountingFactory(own_broker.bootstrap_servers, request_timeout_ms=1000)
    relay = OutboxRelay(
        pool, store, await factory(), lambda _: topic, source="/test", batch_size=20, producer_factory=factory
    )
    stop_writing, stop_relay = asyncio.Event(), asyncio.Event()
    writer = asyncio.create_task(_write(pool, store, {}, stop_writing))
    relay_task = asyncio.create_task(relay.run(stop_relay, idle_sleep=0.01, max_backoff=0.5))
    assert own_broker.pgid is not None
    try:
        await asyncio.sleep(1.0)
        os.killpg(own_broker.pgid, signal.SIGSTOP)
        await asyncio.sleep(4.0)
        os.killpg(own_broker.pgid, signal.SIGCONT)
        await asyncio.sleep(1.0)
        stop_writing.set()
        await writer
        await _caught_up(relay, 60)
    finally:
        os.killpg(own_broker.pgid, signal.SIGCONT)
        stop_writing.set()
        stop_relay.set()
        for task in (writer, relay_task):
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(task, 15)
        await factory.close()
    landed = await read_topic(own_broker.bootstrap_servers, topic)
    order = await _store_order(pool, schema)
    assert not set(order) - {r.event_id for r in landed}
    assert first_copies_in_order(landed, order) == []
