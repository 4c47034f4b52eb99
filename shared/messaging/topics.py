"""The topics of the event contract, created explicitly (never by auto-creation).

Which topics exist is the contract table's to say (`shared.contracts.topics`; its names, without
the event models, in `shared.contracts.topic_names`); this module only creates them, each with its
dead-letter topic.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.contracts.topic_names import TOPIC_NAMES

if TYPE_CHECKING:  # the Kafka client loads when topics are created, not when they are listed
    from kafka.admin import NewTopic

DOMAIN_TOPICS: tuple[str, ...] = TOPIC_NAMES
DLQ_SUFFIX = ".dlq"
DEFAULT_PARTITIONS = 6


def dlq_of(topic: str) -> str:
    return topic + DLQ_SUFFIX


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int = DEFAULT_PARTITIONS


def contract_topics(partitions: int = DEFAULT_PARTITIONS, prefix: str = "") -> list[TopicSpec]:
    """Every domain topic and its dead-letter topic; `prefix` isolates test runs."""
    specs: list[TopicSpec] = []
    for topic in DOMAIN_TOPICS:
        specs.append(TopicSpec(prefix + topic, partitions))
        specs.append(TopicSpec(prefix + dlq_of(topic), 1))
    return specs


REPLICATION_VARIABLE = "KAFKA_REPLICATION_FACTOR"


def replication_from_env() -> int:
    """`KAFKA_REPLICATION_FACTOR` (default 1: a single local broker; production: 3)."""
    value = os.environ.get(REPLICATION_VARIABLE, "1").strip() or "1"
    factor = int(value)
    if factor < 1:
        raise ValueError(f"{REPLICATION_VARIABLE} must be at least 1, not {factor}")
    return factor


def new_topic(spec: TopicSpec, replication: int) -> NewTopic:
    """Records kept forever (`retention.ms=-1`: compliance replays from offset 0); with replicas,
    an acknowledged record (`acks=all`) is on at least two of them (`min.insync.replicas`)."""
    from kafka.admin import NewTopic

    configs = {"retention.ms": "-1"}
    if replication > 1:
        configs["min.insync.replicas"] = str(max(1, min(2, replication - 1)))  # 3 replicas: 2
    return NewTopic(
        name=spec.name, num_partitions=spec.partitions, replication_factor=replication, topic_configs=configs
    )


def ensure_topics(
    bootstrap_servers: str,
    specs: Iterable[TopicSpec],
    timeout_s: float = 30.0,
    replication: int | None = None,
) -> list[str]:
    """Create the topics that do not exist yet (`new_topic`); return the names created now.
    `replication`: the replication factor, default `KAFKA_REPLICATION_FACTOR` or 1."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError, TopicAlreadyExistsError

    replication = replication or replication_from_env()
    wanted = list(specs)
    deadline = time.monotonic() + timeout_s
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="qyzmet-topics")
    try:
        existing = set(admin.list_topics())
        missing = [spec for spec in wanted if spec.name not in existing]
        created: list[str] = []
        for spec in missing:
            new = new_topic(spec, replication)
            while True:
                try:
                    admin.create_topics([new])
                    created.append(spec.name)
                    break
                except TopicAlreadyExistsError:
                    break
                except KafkaError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
        return created
    finally:
        admin.close()


def delete_topics(
    bootstrap_servers: str, names: Iterable[str] = (), *, prefix: str | None = None, quiet: bool = False
) -> list[str]:
    """Delete those of `names` that exist, and every topic whose name starts with `prefix` (a
    run's own prefix, never empty); return the names deleted. For what made topics only to throw
    them away (benchmark rounds, test systems): a broker keeps every record of a topic until it
    is deleted (`new_topic`: kept forever), and the local broker rewrites everything it holds at
    each snapshot, so a topic left behind costs every later measurement its share of that.
    `quiet`: a clean-up that must not hide what went before it (a `finally` block): a failure is
    logged and nothing is deleted."""
    if prefix is not None and not prefix:
        raise ValueError("an empty prefix would name every topic")
    if quiet:
        try:
            return delete_topics(bootstrap_servers, names, prefix=prefix)
        except Exception as exc:
            import structlog  # here: `qyzmet topics list` must start without it

            log = structlog.get_logger(__name__)
            log.warning("topics not deleted", prefix=prefix, error=type(exc).__name__)
            return []
    from kafka import KafkaAdminClient
    from kafka.errors import UnknownTopicOrPartitionError

    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="qyzmet-topics")
    try:
        existing = set(admin.list_topics())
        wanted = set(names) | ({t for t in existing if t.startswith(prefix)} if prefix else set())
        present = sorted(wanted & existing)
        if present:
            try:
                admin.delete_topics(present)
            except UnknownTopicOrPartitionError:  # deleted meanwhile by somebody else
                pass
        return present
    finally:
        admin.close()
