"""A worker that is alive but stalled (records wait, its agents see none) exits for a restart;
a busy, idle or broker-less worker does not."""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shared.infra import KafkaHandle
from shared.messaging.lag import LagMonitor
from shared.messaging.topics import TopicSpec, ensure_topics
from shared.runtime.liveness import GroupLag, ProgressWatch, watch_liveness


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _lag(value: int | None) -> tuple[list[list[TopicPartition]], object]:
    asked: list[list[TopicPartition]] = []

    async def lag(partitions: Collection[TopicPartition]) -> int | None:
        asked.append(list(partitions))
        return value

    return asked, lag


async def _run_watch(watch: ProgressWatch, lag: object, clock: FakeClock, idle_s: float) -> list[str]:
    stalls: list[str] = []
    stop = asyncio.Event()
    clock.now += idle_s

    def on_stall(reason: str) -> None:
        stalls.append(reason)
        stop.set()

    task = asyncio.create_task(
        watch_liveness(
            watch,
            lambda: [TopicPartition("t", 0)],
            lag,  # type: ignore[arg-type]
            on_stall,
            stall_s=60,
            interval_s=0.01,
            stop=stop,
        )
    )
    await asyncio.sleep(0.1)
    stop.set()
    await task
    return stalls


async def test_idle_agents_with_records_waiting_are_a_stall() -> None:
    clock = FakeClock()
    watch = ProgressWatch(clock=clock)
    asked, lag = _lag(42)
    stalls = await _run_watch(watch, lag, clock, idle_s=61)
    assert len(stalls) == 1 and "42 records wait" in stalls[0]
    assert asked[0] == [TopicPartition("t", 0)]


async def test_recent_activity_is_no_stall_and_costs_no_lag_query() -> None:
    clock = FakeClock()
    watch = ProgressWatch(clock=clock)
    asked, lag = _lag(42)
    clock.now += 59
    watch.touch()  # a batch (or a retry of one) just now
    assert await _run_watch(watch, lag, clock, idle_s=30) == []
    assert asked == []


async def test_idle_with_nothing_waiting_or_unknown_lag_is_no_stall() -> None:
    for value in (0, None):
        clock = FakeClock()
        _, lag = _lag(value)
        assert await _run_watch(ProgressWatch(clock=clock), lag, clock, idle_s=600) == []


async def test_group_lag_counts_records_past_the_committed_offsets(
    broker: KafkaHandle, topic_prefix: str
) -> None:
    topic = f"{topic_prefix}work"
    group = f"{topic_prefix}group"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 2)])
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
    await producer.start()
    try:
        for _ in range(5):
            await producer.send_and_wait(topic, b"x", partition=0)
        for _ in range(3):
            await producer.send_and_wait(topic, b"y", partition=1)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=broker.bootstrap_servers, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.commit({TopicPartition(topic, 0): 2})  # 2 of 5 done on partition 0
    finally:
        await consumer.stop()
    monitor = LagMonitor(broker.bootstrap_servers, group)
    unreachable = LagMonitor("127.0.0.1:1", group)
    try:
        lag = GroupLag(monitor, [topic])
        assert await lag([TopicPartition(topic, 0)]) == 3
        assert await lag([TopicPartition(topic, 0), TopicPartition(topic, 1)]) == 3 + 3
        assert await lag([]) == 3  # no assignment: the group's committed partitions of its topics
        assert await GroupLag(unreachable, [topic])([TopicPartition(topic, 0)]) is None
    finally:
        await monitor.close()
        await unreachable.close()
