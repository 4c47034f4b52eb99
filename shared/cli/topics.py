"""`qyzmet topics create|list`: the event contract's topics, created explicitly."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the Kafka client and settings load when a command runs, not for `--help`
    from shared.settings import PlatformSettings

NO_BROKER = (
    "qyzmet: no broker: KAFKA_BOOTSTRAP_SERVERS is not set and no running system was found"
    ' (start one with `qyzmet run`, or `eval "$(qyzmet infra up)"`)'
)


def broker_of(settings: PlatformSettings) -> tuple[str, str] | None:
    """(bootstrap servers, topic prefix): the environment's, else the running system's."""
    if settings.kafka_bootstrap_servers:
        return settings.kafka_bootstrap_servers, settings.topic_prefix
    from shared.runtime.running import current_installation

    system = current_installation().system
    if system is None:
        return None
    return system.kafka_bootstrap_servers, system.topic_prefix


def _create(args: argparse.Namespace) -> int:
    from shared.messaging.topics import contract_topics, ensure_topics
    from shared.settings import PlatformSettings

    settings = PlatformSettings()
    broker = broker_of(settings)
    if broker is None:
        print(NO_BROKER, file=sys.stderr)
        return 2
    bootstrap, prefix = broker
    specs = contract_topics(args.partitions or settings.topic_partitions, prefix)
    created = ensure_topics(bootstrap, specs)
    for spec in specs:
        state = "created" if spec.name in created else "exists"
        print(f"{spec.name:40} partitions={spec.partitions:<3} {state}")
    return 0


def topic_layout(env: Mapping[str, str] | None = None) -> tuple[int, str]:
    """(`TOPIC_PARTITIONS`, `TOPIC_PREFIX`) as `PlatformSettings` reads them (names in any case),
    without loading pydantic; a value it would refuse is left to it, to refuse as it does."""
    values = {key.lower(): value for key, value in (os.environ if env is None else env).items()}
    partitions = values.get("topic_partitions", "6").strip()
    if not (partitions.isascii() and partitions.isdigit() and int(partitions) >= 1):
        from shared.settings import PlatformSettings

        settings = PlatformSettings()
        return settings.topic_partitions, settings.topic_prefix
    return int(partitions), values.get("topic_prefix", "")


def _list(args: argparse.Namespace) -> int:
    from shared.messaging.topics import contract_topics

    partitions, prefix = topic_layout()
    for spec in contract_topics(partitions, prefix):
        print(f"{spec.name:40} partitions={spec.partitions}")
    return 0


def read_headers(bootstrap: str, topic: str, limit: int, timeout_s: float = 5.0) -> list[dict[str, Any]]:
    """The first `limit` records of `topic`: position, key and CloudEvents/DLQ headers, never the body
    (bodies may carry personal data). Reads up to the end offsets fetched first and stops there: an
    empty topic answers at once. `timeout_s` only guards against a broker that stops answering."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        consumer_timeout_ms=int(timeout_s * 1000),
        client_id="qyzmet-topics-read",
    )
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            raise LookupError(f"topic {topic!r} does not exist")
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        starts = consumer.beginning_offsets(assigned)
        ends = consumer.end_offsets(assigned)
        left = [tp for tp in assigned if ends[tp] > starts[tp]]
        if not left or limit <= 0:
            return []
        consumer.assign(left)
        consumer.seek_to_beginning(*left)
        rows: list[dict[str, Any]] = []
        for record in consumer:
            end = ends[TopicPartition(record.topic, record.partition)]
            if record.offset >= end:  # written after the read began
                continue
            headers = {name: value.decode("utf-8", "replace") for name, value in record.headers or []}
            rows.append(
                {
                    "partition": record.partition,
                    "offset": record.offset,
                    "key": record.key.decode("utf-8", "replace") if record.key else None,
                    **{k: v for k, v in headers.items() if k.startswith(("ce_", "dlq_"))},
                }
            )
            if len(rows) >= limit or _at_end(consumer, left, ends):
                break
        return rows
    finally:
        consumer.close()


def _at_end(consumer: Any, partitions: list[Any], ends: Mapping[Any, int]) -> bool:
    """Every partition's position at (or past) its end offset fetched when the read began. Offsets
    may have gaps (transaction markers, compaction): the position, not a count, tells."""
    return all(consumer.position(tp) >= ends[tp] for tp in partitions)


def _read(args: argparse.Namespace) -> int:
    from shared.settings import PlatformSettings

    settings = PlatformSettings()
    broker = broker_of(settings)
    if broker is None:
        print(NO_BROKER, file=sys.stderr)
        return 2
    bootstrap, prefix = broker
    try:
        rows = read_headers(bootstrap, prefix + args.topic, args.max)
    except LookupError as exc:
        print(f"qyzmet topics: {exc}", file=sys.stderr)
        return 2
    if not rows:
        print(f"qyzmet topics: no records in {prefix + args.topic}", file=sys.stderr)
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("topics", help="topics of the event contract")
    commands = parser.add_subparsers(dest="topics_command", required=True)
    create = commands.add_parser("create", help="create missing topics (never relies on auto-creation)")
    create.add_argument(
        "--partitions", type=int, help="partitions of domain topics (default TOPIC_PARTITIONS)"
    )
    create.set_defaults(handler=_create)
    commands.add_parser("list", help="the topics the contract names").set_defaults(handler=_list)
    read = commands.add_parser(
        "read", help="records of a topic (e.g. a .dlq with its reasons) as JSON lines, without bodies"
    )
    read.add_argument("topic", help="topic name without the TOPIC_PREFIX, e.g. applications.v1.dlq")
    read.add_argument("--max", type=int, default=100, help="at most this many records")
    read.set_defaults(handler=_read)
