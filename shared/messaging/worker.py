"""A consumer loop: poll a batch, let `EventConsumer` process each record, commit the batch."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer

from shared.messaging.consumer import EventConsumer


async def consume_until(
    kafka_consumer: AIOKafkaConsumer,
    event_consumer: EventConsumer,
    stop: asyncio.Event,
    *,
    max_records: int = 500,
    poll_timeout_ms: int = 200,
) -> None:
    """Process records until `stop` is set. Offsets are committed only after their effects."""
    while not stop.is_set():
        batches = await kafka_consumer.getmany(timeout_ms=poll_timeout_ms, max_records=max_records)
        if not batches:
            continue
        for records in batches.values():
            for record in records:
                await event_consumer.process(record)
        await kafka_consumer.commit()
