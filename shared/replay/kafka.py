"""Reading the contract topics from offset 0 for a replay, and storing what they carry in a fresh
schema's event store (the same table the services write), so the services' own projectors can
project it.

Records of several topics are merged by the time the publisher recorded them (`ce_time`; ties:
topic order, partition, offset): the order the events happened in, as far as the topics tell.
The whole topic is read into memory first (a replay from Kafka is a compliance check of a
bounded log, not the bulk path: that is the event store's replay).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.contracts.event import parse_ce_type
from shared.contracts.registry import EventRegistry
from shared.db.identifiers import checked_identifier
from shared.messaging.envelope import Envelope, PoisonMessage, decode
from shared.replay.spec import KafkaJob, ReplayJob


@dataclass(frozen=True)
class TopicRecord:
    topic: str
    """Without the run's prefix."""
    envelope: Envelope


async def read_topics(bootstrap_servers: str, topics: Sequence[str], prefix: str = "") -> list[TopicRecord]:
    """Every record now on `topics` (prefixed), from offset 0, merged in publishing-time order.
    A record that is not a well-formed CloudEvent is skipped (the live consumer dead-letters it)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False, group_id=None)
    await consumer.start()
    found: list[tuple[tuple[object, ...], TopicRecord]] = []
    try:
        partitions: list[TopicPartition] = []
        await consumer.topics()  # fetches the cluster's metadata
        for topic in topics:
            for partition in sorted(consumer.partitions_for_topic(prefix + topic) or ()):
                partitions.append(TopicPartition(prefix + topic, partition))
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if ends[tp] > 0}
        order = {prefix + topic: i for i, topic in enumerate(topics)}
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=500, max_records=5000)
            for tp, records in batches.items():
                for record in records:
                    if record.offset >= ends[tp]:
                        continue
                    try:
                        envelope = decode(record.value, list(record.headers))
                    except PoisonMessage:
                        continue
                    key = (envelope.time, order[tp.topic], tp.partition, record.offset)
                    found.append((key, TopicRecord(tp.topic.removeprefix(prefix), envelope)))
                if records and records[-1].offset >= ends[tp] - 1:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    found.sort(key=lambda item: item[0])
    return [record for _, record in found]


async def store_envelopes(
    conn: asyncpg.Connection,
    schema: str,
    envelopes: Sequence[Envelope],
    stream_of: Callable[[Envelope], str],
) -> int:
    """Append the envelopes' events to `schema`'s event store as the publisher stored them (event
    id, type, version, data, metadata, recording time), each stream's versions following on; an
    event id stored already is skipped (a topic may repeat a record). Returns how many were stored."""
    table = f"{checked_identifier(schema)}.events"
    seen: set[uuid.UUID] = set()
    picked: list[tuple[str, uuid.UUID, Envelope]] = []
    for envelope in envelopes:
        event_id = uuid.UUID(envelope.id)
        if event_id not in seen:
            seen.add(event_id)
            picked.append((stream_of(envelope), event_id, envelope))
    if not picked:
        return 0
    names = [parse_ce_type(e.type) for _, _, e in picked]
    metadata = [
        {
            k: v
            for k, v in {
                "correlation_id": e.correlation_id, "causation_id": e.causation_id, "actor": e.actor,
                "office": e.office, "region": e.region,
            }.items()
            if v is not None
        }
        for _, _, e in picked
    ]  # fmt: skip
    result = await conn.execute(
        f"INSERT INTO {table} (stream_id, version, event_id, event_type, schema_version, data, metadata,"
        " recorded_at)"
        " SELECT u.stream_id, coalesce((SELECT max(e.version) FROM " + table + " e"
        " WHERE e.stream_id = u.stream_id), 0) + row_number() OVER (PARTITION BY u.stream_id ORDER BY u.ord),"
        " u.event_id, u.event_type, u.schema_version, u.data, u.metadata, u.recorded_at"
        " FROM unnest($1::text[], $2::uuid[], $3::text[], $4::int[], $5::jsonb[], $6::jsonb[],"
        " $7::timestamptz[]) WITH ORDINALITY"
        " AS u(stream_id, event_id, event_type, schema_version, data, metadata, recorded_at, ord)"
        f" WHERE NOT EXISTS (SELECT 1 FROM {table} e WHERE e.event_id = u.event_id) ORDER BY u.ord",
        [stream for stream, _, _ in picked],
        [event_id for _, event_id, _ in picked],
        [name for name, _ in names],
        [version for _, version in names],
        [e.data for _, _, e in picked],
        metadata,
        [e.time for _, _, e in picked],
    )
    stored = int(result.rsplit(" ", 1)[-1])
    if await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"{schema}.streams"):
        # the store's per-stream heads (the version an append continues from) follow the events
        await conn.execute(
            f"INSERT INTO {checked_identifier(schema)}.streams (stream_id, version, txid)"
            f" SELECT stream_id, max(version), pg_current_xact_id() FROM {table}"
            " WHERE stream_id = ANY($1::text[]) GROUP BY stream_id"
            " ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, txid = excluded.txid",
            sorted({stream for stream, _, _ in picked}),
        )
    return stored


def subject_stream(envelope: Envelope) -> str:
    """The publisher's stream id, which its relay puts in `ce_subject`."""
    if envelope.subject is None:
        raise ValueError(f"event {envelope.id} has no ce_subject (its stream)")
    return envelope.subject


async def topics_into_store(
    pool: asyncpg.Pool,
    job: KafkaJob,
    topics: Sequence[str],
    registry: EventRegistry,
    stream_of: Callable[[Envelope], str] = subject_stream,
) -> int:
    """Fill `job.target`'s event store with the events of `registry` found on `topics`."""
    records = await read_topics(job.bootstrap_servers, topics, job.topic_prefix)
    known = {f"{cls.event_name}": cls for cls in registry.classes()}
    envelopes = [r.envelope for r in records if parse_ce_type(r.envelope.type)[0] in known]
    stored = 0
    async with pool.acquire() as conn:
        for start in range(0, len(envelopes), 1000):
            async with conn.transaction():
                stored += await store_envelopes(conn, job.target, envelopes[start : start + 1000], stream_of)
    return stored


async def refilled_store_job(pool: asyncpg.Pool, job: KafkaJob) -> ReplayJob:
    """The store replay that projects `job.target`'s event store, once filled from the topics, into
    its own rows: the streams the selection picks there (`job.streams_of`), all when none."""
    streams = None
    if job.streams_of is not None:
        async with pool.acquire() as conn:
            streams = await job.streams_of(conn, job.target)
    return ReplayJob(job.target, job.target, streams, job.progress)
