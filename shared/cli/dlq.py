"""`qyzmet dlq redrive TOPIC [--since ISO] [--id CE_ID]...`: put dead-lettered messages back on
their topic once the cause is fixed, each DLQ record at most once.

Every redriven record goes back with its original key, bytes and CloudEvents headers (the
`dlq_*` ones dropped) plus `qyzmet-redriven: <dlq partition>:<offset>`; consumers are idempotent,
and a message that fails again is dead-lettered again as a new DLQ record. What was redriven is
written down on `<topic>.dlq.redriven` (key `<partition>:<offset>` of the DLQ record) after the
broker acknowledged the redriven copy, so a second redrive skips it (a crash between the two can
send one copy twice: harmless). Prints ids, types and positions, never bodies.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shared.cli.topics import NO_BROKER, broker_of

if TYPE_CHECKING:  # the Kafka client and the contract load when a command runs, not for `--help`
    from aiokafka import AIOKafkaProducer
    from aiokafka.structs import ConsumerRecord

REDRIVEN_HEADER = "qyzmet-redriven"
LEDGER_SUFFIX = ".redriven"


@dataclass(frozen=True)
class Redrive:
    topic: str
    """The original topic, with its prefix."""
    since: datetime | None = None
    ids: frozenset[str] = frozenset()
    dry_run: bool = False

    @property
    def dlq(self) -> str:
        from shared.messaging.topics import dlq_of

        return dlq_of(self.topic)

    @property
    def ledger(self) -> str:
        return self.dlq + LEDGER_SUFFIX

    def wants(self, record: ConsumerRecord[bytes, bytes]) -> bool:
        if self.since is not None and record.timestamp < self.since.timestamp() * 1000:
            return False
        return not self.ids or _header(record, "ce_id") in self.ids


def _header(record: ConsumerRecord[bytes, bytes], name: str) -> str | None:
    return next((v.decode("utf-8", "replace") for k, v in record.headers or () if k == name), None)


def _position(record: ConsumerRecord[Any, Any]) -> str:
    return f"{record.partition}:{record.offset}"


async def _read_to_end(
    bootstrap: str, topic: str, timeout_s: float = 60.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of `topic` up to its end offsets when the read began."""
    import asyncio

    from aiokafka import AIOKafkaConsumer
    from aiokafka.structs import TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        if topic not in await consumer.topics():
            raise LookupError(f"topic {topic!r} does not exist")
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        out: list[ConsumerRecord[bytes, bytes]] = []
        waiting = {tp for tp in partitions if ends[tp] > 0}
        deadline = asyncio.get_running_loop().time() + timeout_s
        while waiting:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"could not read {topic!r} to its end within {timeout_s:.0f} s")
            for tp, records in (await consumer.getmany(*waiting, timeout_ms=1000)).items():
                out.extend(r for r in records if r.offset < ends[tp])
                if records and records[-1].offset >= ends[tp] - 1:
                    waiting.discard(tp)
        return out
    finally:
        await consumer.stop()


async def redrive(bootstrap: str, plan: Redrive) -> list[ConsumerRecord[bytes, bytes]]:
    """Send the wanted DLQ records of `plan.topic` back, skipping those redriven before; return them."""
    from shared.messaging.kafka import make_producer
    from shared.messaging.topics import TopicSpec, ensure_topics

    ensure_topics(bootstrap, [TopicSpec(plan.ledger, 1)])
    done = {r.key.decode() for r in await _read_to_end(bootstrap, plan.ledger) if r.key is not None}
    chosen = [
        r for r in await _read_to_end(bootstrap, plan.dlq) if _position(r) not in done and plan.wants(r)
    ]
    if plan.dry_run or not chosen:
        return chosen
    producer: AIOKafkaProducer = make_producer(bootstrap, client_id="qyzmet-dlq-redrive")
    await producer.start()
    try:
        for record in chosen:
            position = _position(record).encode()
            headers = [(k, v) for k, v in record.headers or () if not k.startswith("dlq_")]
            headers.append((REDRIVEN_HEADER, position))
            target = _header(record, "dlq_topic") or plan.topic
            await producer.send_and_wait(target, value=record.value, key=record.key, headers=headers)
            ce_id = (_header(record, "ce_id") or "").encode()
            await producer.send_and_wait(plan.ledger, value=ce_id, key=position)
    finally:
        await producer.stop()
    return chosen


def iso_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _redrive(args: argparse.Namespace) -> int:
    import asyncio

    from shared.settings import PlatformSettings

    broker = broker_of(PlatformSettings())
    if broker is None:
        print(NO_BROKER, file=sys.stderr)
        return 2
    bootstrap, prefix = broker
    plan = Redrive(prefix + args.topic, args.since, frozenset(args.ids or ()), args.dry_run)
    try:
        chosen = asyncio.run(redrive(bootstrap, plan))
    except LookupError as exc:
        print(f"qyzmet dlq: {exc}", file=sys.stderr)
        return 2
    verb = "would redrive" if plan.dry_run else "redriven"
    for record in chosen:
        ce_id, ce_type = _header(record, "ce_id"), _header(record, "ce_type")
        print(f"{verb} {plan.dlq}@{_position(record)} ce_id={ce_id} ce_type={ce_type}")
    print(f"{len(chosen)} {verb} to {plan.topic}")
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("dlq", help="dead-letter topics")
    commands = parser.add_subparsers(dest="dlq_command", required=True)
    cmd = commands.add_parser(
        "redrive", help="put dead-lettered messages back on their topic after a fix (each at most once)"
    )
    cmd.add_argument("topic", help="the original topic without the TOPIC_PREFIX, e.g. applications.v1")
    cmd.add_argument("--since", type=iso_time, help="only records dead-lettered at or after this ISO time")
    cmd.add_argument(
        "--id", dest="ids", action="append", metavar="CE_ID", help="only this event id (repeatable)"
    )
    cmd.add_argument("--dry-run", action="store_true", help="list what would be redriven, send nothing")
    cmd.set_defaults(handler=_redrive)
