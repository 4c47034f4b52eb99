"""After a broker lost acknowledged records: find where the relay must publish from again.

The local broker (noida-db) acknowledges a record before it is on disk (README, "Broker
durability"); a SIGKILL loses what it acknowledged in the last second or so. The relay keeps, per
checkpointed batch and partition, the highest offset its events got and the event id stored there
(`relay_marks`). A partition log only ever loses a suffix, so a mark is intact iff the topic still
holds that event at that offset; the relay rewinds its checkpoint to before the earliest batch with
a lost mark and publishes from there again (duplicates are harmless: consumers are idempotent).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from uuid import UUID

import structlog
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import OffsetOutOfRangeError
from aiokafka.structs import TopicPartition

from shared.eventstore.records import GlobalCursor
from shared.messaging.relay_ledger import StoredMark

log = structlog.get_logger(__name__)


def _cursor_key(cursor: GlobalCursor) -> tuple[int, int]:
    return cursor.txid, cursor.position


async def _event_id_at(
    consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int, timeout_s: float
) -> str | None:
    """The ce_id of the record at `offset`; None if there is none (out of range, or none within
    `timeout_s`: when unsure, the caller publishes again, which is safe)."""
    consumer.seek(tp, offset)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        try:
            batches = await consumer.getmany(tp, timeout_ms=200, max_records=1)
        except OffsetOutOfRangeError:
            return None
        for record in batches.get(tp, []):
            if record.offset != offset:
                return None
            return next((v.decode() for k, v in record.headers if k == "ce_id"), None)
    return None


async def rewind_point(
    bootstrap_servers: str, marks: list[StoredMark], timeout_s: float = 10.0
) -> GlobalCursor | None:
    """The checkpoint from which to publish again so that the topic gets back what it lost;
    None when every partition still holds its latest mark."""
    if not marks:
        return None
    by_partition: dict[TopicPartition, list[StoredMark]] = defaultdict(list)
    for mark in marks:
        by_partition[TopicPartition(mark.topic, mark.partition)].append(mark)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="none",
        client_id="qyzmet-relay-recovery",
    )
    await consumer.start()
    lost: list[StoredMark] = []
    try:
        existing = await asyncio.wait_for(consumer.topics(), timeout_s)
        for tp in [tp for tp in by_partition if tp.topic not in existing]:
            lost.extend(by_partition.pop(tp))  # the topic is gone: what it held must be sent again
        partitions = list(by_partition)
        consumer.assign(partitions)
        ends = await asyncio.wait_for(consumer.end_offsets(partitions), timeout_s) if partitions else {}
        for tp, tp_marks in by_partition.items():
            for mark in sorted(tp_marks, key=lambda m: m.last_offset, reverse=True):
                # A broker may under-report the end (tansu does): look for the record even past it,
                # but do not wait long for one that is really not there.
                wait = timeout_s if mark.last_offset < ends[tp] else min(timeout_s, 1.0)
                found = await _event_id_at(consumer, tp, mark.last_offset, wait)
                if found is not None and UUID(found) == mark.last_event_id:
                    break  # this mark is intact, and so is everything before it in the partition
                lost.append(mark)
    finally:
        await consumer.stop()
    if not lost:
        return None
    earliest = min(lost, key=lambda m: _cursor_key(m.before))
    log.warning(
        "relay: the broker lost acknowledged records, publishing them again",
        partitions=len({(m.topic, m.partition) for m in lost}),
        rewind_txid=earliest.before.txid,
        rewind_position=earliest.before.position,
    )
    return earliest.before
