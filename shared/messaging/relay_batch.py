"""One relay batch: hand the events to the producer, then settle the acknowledgements into what
moves the checkpoint (the prefix acknowledged or parked), the parked events and the marks."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata, TopicPartition

from shared.contracts.routes import Route
from shared.messaging.envelope import publishable
from shared.messaging.relay_errors import BatchRefused, check_topic_name, refusal_reason
from shared.messaging.relay_ledger import Mark, Parked


@dataclass
class Sent:
    row: asyncpg.Record
    topic: str | None = None
    future: asyncio.Future[RecordMetadata] | None = None
    refused: str | None = None
    """Why the event is parked: refused by the client before sending, or by the broker when sent alone."""
    error: BaseException | None = None


@dataclass
class Settled:
    last: asyncpg.Record | None = None
    """The last event of the prefix that is done for good (acknowledged, parked or not routed)."""
    acked: int = 0
    parked: list[Parked] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    error: BaseException | None = None
    """What stopped the prefix; `BatchRefused` when the broker refused a batch of several events."""


async def send_batch(
    producer: AIOKafkaProducer, route: Route, source: str, rows: list[asyncpg.Record]
) -> list[Sent]:
    """Hand the batch to the producer; stop at the first send that fails other than by refusal."""
    sent: list[Sent] = []
    for row in rows:
        item = Sent(row, route(row["event_type"]))
        sent.append(item)
        if item.topic is None:
            continue
        try:
            check_topic_name(item.topic)
            body, headers = publishable(row, source)
            item.future = await producer.send(
                item.topic, value=body, key=row["stream_id"].encode(), headers=headers
            )
        except Exception as exc:
            item.refused = refusal_reason(exc)  # refused by the client: this event alone
            if item.refused is None:
                item.error = exc
                break
    return sent


def _parked(item: Sent) -> Parked:
    row = item.row
    assert item.topic is not None and item.refused is not None
    return Parked(
        row["event_id"],
        row["position"],
        row["txid"],
        row["stream_id"],
        row["event_type"],
        item.topic,
        item.refused,
    )


async def settle(sent: list[Sent]) -> Settled:
    """Wait for the acknowledgements. A refusal by the broker is definitive only for an event sent
    alone; in a batch of several it is a `BatchRefused` error (the caller sends them one by one)."""
    futures = [item.future for item in sent if item.future is not None]
    results = iter(await asyncio.gather(*futures, return_exceptions=True))
    done = Settled()
    highest: dict[TopicPartition, Mark] = {}
    for item in sent:
        result: RecordMetadata | BaseException | None = next(results) if item.future is not None else None
        if isinstance(result, BaseException):
            reason = refusal_reason(result)
            if reason is None:
                item.error = result
            elif len(sent) == 1:
                item.refused = reason
            else:
                item.error = BatchRefused(reason)
        if item.error is not None:
            done.error = item.error
            break
        if item.refused is not None:
            done.parked.append(_parked(item))
        elif isinstance(result, RecordMetadata):
            done.acked += 1
            tp = TopicPartition(result.topic, result.partition)
            if tp not in highest or highest[tp].last_offset < result.offset:
                highest[tp] = Mark(result.topic, result.partition, result.offset, item.row["event_id"])
        done.last = item.row
    done.marks = list(highest.values())
    return done
