"""Dead-letter publishing: a poison message goes to `<topic>.dlq` with the reason in headers."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from shared.messaging.raw import RawMessage
from shared.messaging.topics import dlq_of


async def dead_letter(producer: AIOKafkaProducer, record: RawMessage, reason: str, consumer: str) -> None:
    """Publish the original bytes and headers plus the reason and origin; wait for the ack."""
    headers = list(record.headers or ())
    headers += [
        ("dlq_reason", reason[:2000].encode("utf-8")),
        ("dlq_topic", record.topic.encode()),
        ("dlq_partition", str(record.partition).encode()),
        ("dlq_offset", str(record.offset).encode()),
        ("dlq_consumer", consumer.encode()),
    ]
    await producer.send_and_wait(dlq_of(record.topic), value=record.value, key=record.key, headers=headers)
