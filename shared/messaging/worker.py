"""A consumer loop: poll, handle each partition's records as batches (partitions concurrently,
each in order on its own connection), and commit the offsets only after their effects."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import structlog
from aiokafka import AIOKafkaConsumer

from shared.messaging.consumer import EventConsumer
from shared.messaging.raw import RawMessage

log = structlog.get_logger(__name__)


async def _partition(event_consumer: EventConsumer, records: Sequence[RawMessage], batch_size: int) -> None:
    for start in range(0, len(records), batch_size):
        await event_consumer.process_batch(records[start : start + batch_size])


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
    while not stop.is_set():
        batches = await kafka_consumer.getmany(timeout_ms=poll_timeout_ms, max_records=max_records)
        if not batches:
            continue
        try:
            # A TaskGroup cancels the other partitions' work as soon as one fails, so nothing of
            # this poll still runs when it is rewound.
            async with asyncio.TaskGroup() as group:
                for records in batches.values():
                    group.create_task(_partition(event_consumer, records, batch_size))
            await kafka_consumer.commit()
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
