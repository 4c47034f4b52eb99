"""Helpers of the relay recovery tests: producers made on demand, and a topic read back whole."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from shared.messaging.kafka import make_producer


class CountingFactory:
    """A `producer_factory` that records every producer it started (and stops them at the end)."""

    def __init__(self, bootstrap: str, request_timeout_ms: int | None = None) -> None:
        self.bootstrap = bootstrap
        self.request_timeout_ms = request_timeout_ms
        self.made: list[AIOKafkaProducer] = []

    async def __call__(self) -> AIOKafkaProducer:
        producer = make_producer(self.bootstrap)
        if self.request_timeout_ms is not None:  # acknowledgements time out sooner
            producer = AIOKafkaProducer(
                bootstrap_servers=self.bootstrap,
                acks="all",
                enable_idempotence=True,
                linger_ms=5,
                request_timeout_ms=self.request_timeout_ms,
                metadata_max_age_ms=self.request_timeout_ms,
            )
        await producer.start()
        self.made.append(producer)
        return producer

    async def close(self) -> None:
        for producer in self.made:
            await asyncio.wait_for(producer.stop(), 5)


@dataclass(frozen=True)
class Landed:
    key: str
    event_id: str
    partition: int
    offset: int


async def read_topic(
    bootstrap: str, topic: str, idle_s: float = 1.5, timeout_s: float = 30.0
) -> list[Landed]:
    """Every record of `topic`, in partition order; stops once nothing new came for `idle_s`."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    out: list[Landed] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    quiet_since = loop.time()
    try:
        while loop.time() < deadline and loop.time() - quiet_since < idle_s:
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for r in records:
                    assert r.key is not None
                    ce_id = next(v.decode() for k, v in r.headers if k == "ce_id")
                    out.append(Landed(r.key.decode(), ce_id, r.partition, r.offset))
                    quiet_since = loop.time()
    finally:
        await consumer.stop()
    return out


def first_copies_in_order(landed: list[Landed], order_of: dict[str, int]) -> list[str]:
    """Keys whose first copies on the topic are not in stream order (`order_of`: event id -> version)."""
    seen: set[str] = set()
    last: dict[str, int] = {}
    wrong: list[str] = []
    for record in sorted(landed, key=lambda r: (r.partition, r.offset)):
        if record.event_id in seen:
            continue
        seen.add(record.event_id)
        version = order_of[record.event_id]
        if version < last.get(record.key, -1):
            wrong.append(record.key)
        last[record.key] = version
    return wrong
