"""The broker contract: what the project relies on from a Kafka-protocol broker, through its own
client factories (`make_producer`, `make_consumer`, `EventConsumer`).

Subclass `BrokerContract` in a test module and mark it `tansu`: conftest's `broker` fixture then
runs every test on noida-db and on tansu (or on the one external broker). Known quirks the tests
stay clear of, because the project does not rely on them either: tansu's ListOffsets(latest)
under-counts, so completeness is judged by a sentinel record, never by end offsets; neither
broker's auto-creation is used; static membership everywhere (noida-db never expires a dead
dynamic member).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from shared.contracts.event import DomainEvent
from shared.contracts.registry import EventRegistry
from shared.infra import KafkaHandle
from shared.messaging.consumer import EventConsumer, Outcome
from shared.messaging.envelope import Envelope
from shared.messaging.kafka import make_consumer, make_producer
from shared.messaging.topics import TopicSpec, dlq_of, ensure_topics
from shared.messaging.worker import consume_until

WAIT_S = 30.0
"""Upper bound of every wait; the waits themselves end as soon as their condition holds."""


async def until(condition: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> None:
    """Poll `condition` until it holds; fail naming `what` if it does not within `timeout_s`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        await asyncio.sleep(0.02)


def producer_for(broker: KafkaHandle) -> AIOKafkaProducer:
    # tansu has no idempotent producer (KAFKA_IDEMPOTENT_PRODUCER=false in its deployments).
    return make_producer(broker.bootstrap_servers, idempotent=broker.kind != "tansu")


@dataclass
class Member:
    """A group member (the project's consumer factory) polling and committing in the background."""

    consumer: AIOKafkaConsumer
    received: list[ConsumerRecord[bytes, bytes]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    @classmethod
    async def join(cls, broker: KafkaHandle, topic: str, group: str, instance: str) -> Member:
        member = cls(make_consumer(broker.bootstrap_servers, [topic], group_id=group, instance_id=instance))
        await member.consumer.start()
        member.task = asyncio.create_task(member._poll())
        return member

    async def _poll(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=100)
            for records in batches.values():
                self.received.extend(records)
            if batches:
                await self.consumer.commit()

    def partitions(self) -> set[int]:
        return {tp.partition for tp in self.consumer.assignment()}

    async def leave(self) -> None:
        """Stop polling and close. A static member sends no LeaveGroup: its partitions wait for it."""
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.consumer.stop()


async def produce(
    producer: AIOKafkaProducer,
    topic: str,
    records: Sequence[tuple[bytes | None, bytes]],
    *,
    headers: Sequence[tuple[str, bytes]] = (),
    partition: int | None = None,
) -> None:
    """Send in order and wait for every ack."""
    futures = [
        await producer.send(topic, value=value, key=key, headers=list(headers), partition=partition)
        for key, value in records
    ]
    await asyncio.gather(*futures)


async def with_sentinels(producer: AIOKafkaProducer, topic: str, partitions: int, tag: str) -> set[bytes]:
    """One sentinel per partition, after everything sent before: once a reader has seen all of
    them it has seen everything earlier too (order holds within a partition)."""
    values = {f"sentinel-{tag}-{p}".encode() for p in range(partitions)}
    for p, value in enumerate(sorted(values)):
        await produce(producer, topic, [(None, value)], partition=p)
    return values


def values_of(records: Sequence[ConsumerRecord[bytes, bytes]]) -> list[bytes]:
    return [r.value for r in records if r.value is not None]


class Probed(DomainEvent):
    event_name = "test.probed"
    event_version = 1
    n: int


async def _noop(conn: asyncpg.Connection, envelope: Envelope, event: DomainEvent) -> None:
    return None


class BrokerContract:
    """Tests of the broker through the project's adapters; `broker` and `topic_prefix` from conftest."""

    async def test_round_trip_keeps_key_value_and_headers(
        self, broker: KafkaHandle, topic_prefix: str
    ) -> None:
        topic = topic_prefix + "roundtrip"
        ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 3)])
        headers = [
            ("ce_id", b"id-1"),
            ("ce_type", b"kz.qyzmet.test.v1"),
            ("empty", b""),
            ("utf8", "Ә".encode()),
        ]
        producer = producer_for(broker)
        await producer.start()
        try:
            body = '{"holder": "Айгүл"}'.encode()
            await produce(producer, topic, [(b"case-1", body), (None, b"no key")], headers=headers)
        finally:
            await producer.stop()
        # Read without a group: groups are the later tests' subject, and on tansu each JoinGroup
        # waits half a session timeout.
        received = await read_from_start(broker, topic, until_count=2)
        by_value = {r.value: r for r in received}
        assert set(by_value) == {body, b"no key"}
        keyed, unkeyed = by_value[body], by_value[b"no key"]
        assert (keyed.topic, keyed.key, unkeyed.key) == (topic, b"case-1", None)
        for record in (keyed, unkeyed):
            assert list(record.headers) == headers

    async def test_records_of_one_key_stay_in_order_in_one_partition(
        self, broker: KafkaHandle, topic_prefix: str
    ) -> None:
        topic = topic_prefix + "ordering"
        ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 3)])
        keys = [f"case-{k}".encode() for k in range(6)]
        sent = [(keys[n % len(keys)], f"{n}".encode()) for n in range(300)]
        producer = producer_for(broker)
        await producer.start()
        try:
            await produce(producer, topic, sent)
            sentinels = await with_sentinels(producer, topic, 3, "order")
        finally:
            await producer.stop()
        received = await read_from_start(broker, topic, until_values=sentinels)
        for key in keys:
            records = [r for r in received if r.key == key]
            assert [r.value for r in records] == [v for k, v in sent if k == key]
            assert len({r.partition for r in records}) == 1
            assert [r.offset for r in records] == sorted(r.offset for r in records)

    async def test_static_members_split_partitions_and_a_returning_member_gets_its_own_back(
        self, broker: KafkaHandle, topic_prefix: str
    ) -> None:
        topic, group, partitions = topic_prefix + "rebalance", topic_prefix + "g", 4
        ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, partitions)])
        every = set(range(partitions))
        producer = producer_for(broker)
        await producer.start()
        a = await Member.join(broker, topic, group, group + "-a")
        members = [a]
        try:
            await until(lambda: a.partitions() == every, "the first member to own every partition")
            b = await Member.join(broker, topic, group, group + "-b")
            members.append(b)

            def split() -> bool:
                # Both sides of the rebalance done: while it runs, a still holds what b was given.
                mine, theirs = a.partitions(), b.partitions()
                return bool(mine) and bool(theirs) and not mine & theirs and mine | theirs == every

            await until(split, "the partitions split between two members")
            owned_a, owned_b = a.partitions(), b.partitions()

            async def consumed_exactly_once(tag: str, readers: list[Member]) -> None:
                sent = {f"{tag}-{n}".encode() for n in range(60)}
                await produce(
                    producer, topic, [(f"case-{n % 12}".encode(), v) for n, v in enumerate(sorted(sent))]
                )
                sentinels = await with_sentinels(producer, topic, partitions, tag)

                def seen() -> list[bytes]:
                    return [v for m in readers for v in values_of(m.received)]

                await until(lambda: sentinels <= set(seen()), f"the {tag} sentinels")
                mine = [v for v in seen() if v in sent]
                assert sorted(mine) == sorted(sent)  # every record, and none twice
                for m in readers:
                    assert {r.partition for r in m.received if r.value in sent} <= m.partitions()
                    m.received.clear()

            await consumed_exactly_once("split", [a, b])

            await b.leave()  # a restart: same instance id, no LeaveGroup sent
            members.remove(b)
            b = await Member.join(broker, topic, group, group + "-b")
            members.append(b)
            await until(
                lambda: b.partitions() == owned_b, f"the returning member to get {sorted(owned_b)} back"
            )
            assert a.partitions() == owned_a
            await consumed_exactly_once("rejoined", [a, b])
        finally:
            for m in members:
                await m.leave()
            await producer.stop()

    async def test_a_restarted_consumer_resumes_after_the_last_commit(
        self, broker: KafkaHandle, topic_prefix: str
    ) -> None:
        topic, group = topic_prefix + "offsets", topic_prefix + "g"
        ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 1)])
        tp = TopicPartition(topic, 0)
        producer = producer_for(broker)
        await producer.start()
        try:
            await produce(producer, topic, [(b"k", f"{n}".encode()) for n in range(10)])
        finally:
            await producer.stop()

        first = make_consumer(broker.bootstrap_servers, [topic], group_id=group, instance_id=group + "-0")
        await first.start()
        received: list[ConsumerRecord[bytes, bytes]] = []
        try:
            while len(received) < 6:  # bounded: `until`'s deadline would need a task; getmany has one
                batch = await asyncio.wait_for(first.getmany(tp, timeout_ms=200), WAIT_S)
                received.extend(batch.get(tp, []))
            committed_at = received[5].offset + 1  # handled six: commit exactly those
            await first.commit({tp: committed_at})
            assert await first.committed(tp) == committed_at
        finally:
            await first.stop()

        again = await Member.join(broker, topic, group, group + "-0")  # the same pod, restarted
        try:
            await until(lambda: len(again.received) >= 4, "the four records after the commit")
            assert await again.consumer.committed(tp) == 10
        finally:
            await again.leave()
        assert values_of(again.received) == [f"{n}".encode() for n in range(6, 10)]
        assert again.received[0].offset == committed_at

    async def test_poison_record_lands_on_the_dead_letter_topic_with_reason_and_original_bytes(
        self, broker: KafkaHandle, topic_prefix: str, pool: asyncpg.Pool, schema: str
    ) -> None:
        topic, group = topic_prefix + "inspections.v1", topic_prefix + "g"
        ensure_topics(broker.bootstrap_servers, [TopicSpec(topic, 1), TopicSpec(dlq_of(topic), 1)])
        sentinel = Envelope(id=str(uuid.uuid4()), source="/test", type=Probed.ce_type(), data={"n": 1})
        poison = b'{"n": "not a number"'
        poison_headers = [(k, v) for k, v in sentinel.to_headers() if k != "ce_id"] + [("ce_id", b"p-1")]
        producer = producer_for(broker)
        await producer.start()
        kafka_consumer = make_consumer(
            broker.bootstrap_servers, [topic], group_id=group, instance_id=group + "-0"
        )
        await kafka_consumer.start()
        consumer = EventConsumer("probe", pool, schema, EventRegistry([Probed]), _noop, producer)
        stop = asyncio.Event()
        task = asyncio.create_task(consume_until(kafka_consumer, consumer, stop))
        try:
            await produce(producer, topic, [(b"case-9", poison)], headers=poison_headers)
            await produce(producer, topic, [(b"case-9", sentinel.body())], headers=sentinel.to_headers())
            await until(lambda: consumer.counts[Outcome.HANDLED] == 1, "the record after the poison")
        finally:
            stop.set()
            await task
            await kafka_consumer.stop()
            await producer.stop()
        assert consumer.counts[Outcome.DEAD_LETTERED] == 1

        dead = await read_from_start(broker, dlq_of(topic), until_count=1)
        assert len(dead) == 1
        (record,) = dead
        headers = dict(record.headers)
        assert (record.value, record.key) == (poison, b"case-9")
        assert headers["dlq_reason"]
        assert (headers["dlq_topic"], headers["dlq_offset"], headers["dlq_consumer"]) == (
            topic.encode(),
            b"0",
            b"probe",
        )
        assert headers["ce_id"] == b"p-1"  # the original headers travel with it


async def read_from_start(
    broker: KafkaHandle,
    topic: str,
    *,
    until_count: int = 0,
    until_values: frozenset[bytes] | set[bytes] = frozenset(),
) -> list[ConsumerRecord[bytes, bytes]]:
    """Read a topic from offset 0 without a group until `until_count` records and every value in
    `until_values` arrived (or the deadline passed: the caller's assertions then say what is missing)."""
    reader = AIOKafkaConsumer(topic, bootstrap_servers=broker.bootstrap_servers, auto_offset_reset="earliest")
    await reader.start()
    out: list[ConsumerRecord[bytes, bytes]] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_S
        while (len(out) < until_count or not until_values <= set(values_of(out))) and loop.time() < deadline:
            for records in (await reader.getmany(timeout_ms=100)).values():
                out.extend(records)
    finally:
        await reader.stop()
    return out
