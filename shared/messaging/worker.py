"""A consumer loop: poll, handle each partition's records as batches (partitions concurrently,
each in order on its own connection), and commit the offsets only after their effects.

A record that cannot be handled yet (`RetryLater`) pauses only its own partition: the offsets
before it are committed, the partition is rewound to it and paused, and resumed after a back-off
(`Redelivery.initial_delay`, doubling up to `max_delay`); the other partitions go on meanwhile.
Once the record's retry budget is spent it is dead-lettered and its partition moves on.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import OffsetAndMetadata, TopicPartition

from shared.messaging.consumer import Deferrals, EventConsumer, Outcome
from shared.messaging.raw import RawMessage

log = structlog.get_logger(__name__)


async def _partition(
    event_consumer: EventConsumer, records: Sequence[RawMessage], batch_size: int, deferrals: Deferrals
) -> int | None:
    """Handle the records in order; the offset of the first one deferred, None if all are done."""
    for start in range(0, len(records), batch_size):
        chunk = records[start : start + batch_size]
        outcomes = await event_consumer.process_batch(chunk, deferrals=deferrals)
        for record, outcome in zip(chunk, outcomes, strict=True):
            if outcome is Outcome.DEFERRED:
                return record.offset
    return None


@dataclass
class _Paused:
    """Partitions waiting for a deferred record's back-off, and each one's next back-off."""

    first_delay: float
    max_delay: float
    until: dict[TopicPartition, float] = field(default_factory=dict)
    delay: dict[TopicPartition, float] = field(default_factory=dict)

    def pause(self, consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> float:
        delay = self.delay.get(tp, self.first_delay)
        if tp not in consumer.assignment():  # revoked meanwhile: its new owner starts from the commit
            return delay
        self.delay[tp] = min(delay * 2, self.max_delay)
        consumer.seek(tp, offset)
        consumer.pause(tp)
        self.until[tp] = time.monotonic() + delay
        return delay

    def done(self, tp: TopicPartition) -> None:
        self.delay.pop(tp, None)

    def resume_due(self, consumer: AIOKafkaConsumer) -> None:
        now = time.monotonic()
        due = [tp for tp, at in self.until.items() if at <= now]
        owned = consumer.assignment()
        for tp in due:
            del self.until[tp]
            if tp in owned:
                consumer.resume(tp)

    def poll_ms(self, default_ms: int) -> int:
        if not self.until:
            return default_ms
        wait = min(self.until.values()) - time.monotonic()
        return max(1, min(default_ms, int(wait * 1000)))


async def consume_until(
    kafka_consumer: AIOKafkaConsumer,
    event_consumer: EventConsumer,
    stop: asyncio.Event,
    *,
    max_records: int = 500,
    batch_size: int = 100,
    poll_timeout_ms: int = 200,
    max_backoff: float = 30.0,
) -> None:
    """Process records until `stop` is set; one transaction per `batch_size` records of a partition.

    If a poll's records cannot all be handled (the dead-letter topic unreachable, say), nothing is
    committed: the consumer goes back to the first record of each partition of that poll and tries
    again after a back-off; records already handled meet the inbox and have no second effect.
    """
    backoff = 0.5
    deferrals = Deferrals()
    paused = _Paused(event_consumer.retry.initial_delay, event_consumer.retry.max_delay)
    while not stop.is_set():
        paused.resume_due(kafka_consumer)
        batches = await kafka_consumer.getmany(
            timeout_ms=paused.poll_ms(poll_timeout_ms), max_records=max_records
        )
        if not batches:
            continue
        try:
            # A TaskGroup cancels the other partitions' work as soon as one fails, so nothing of
            # this poll still runs when it is rewound.
            async with asyncio.TaskGroup() as group:
                tasks = {
                    tp: group.create_task(_partition(event_consumer, records, batch_size, deferrals))
                    for tp, records in batches.items()
                }
            offsets: dict[TopicPartition, OffsetAndMetadata] = {}
            for tp, records in batches.items():
                deferred = tasks[tp].result()
                offsets[tp] = OffsetAndMetadata(records[-1].offset + 1 if deferred is None else deferred, "")
                if deferred is None:
                    paused.done(tp)
                else:
                    delay = paused.pause(kafka_consumer, tp, deferred)
                    log.info(
                        "consumer: partition paused", topic=tp.topic, partition=tp.partition, delay_s=delay
                    )
            await kafka_consumer.commit(offsets)
            backoff = 0.5
        except Exception as exc:
            log.warning("consumer: batch failed, rewinding", error=type(exc).__name__, backoff_s=backoff)
            owned = kafka_consumer.assignment()  # after a rebalance, only what is still ours
            for partition, records in batches.items():
                if partition in owned:
                    kafka_consumer.seek(partition, records[0].offset)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff)
            backoff = min(backoff * 2, max_backoff)
