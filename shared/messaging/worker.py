"""A consumer loop: poll, handle each partition's records as batches (partitions concurrently,
each in order on its own connection), and commit the offsets only after their effects."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer

from shared.messaging.consumer import EventConsumer
from shared.messaging.raw import RawMessage


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
) -> None:
    """Process records until `stop` is set; one transaction per `batch_size` records of a partition."""
    while not stop.is_set():
        batches = await kafka_consumer.getmany(timeout_ms=poll_timeout_ms, max_records=max_records)
        if not batches:
            continue
        await asyncio.gather(
            *(_partition(event_consumer, records, batch_size) for records in batches.values())
        )
        await kafka_consumer.commit()
