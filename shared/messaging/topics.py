"""The topics of the event contract, created explicitly (never by auto-creation).

Which topics exist is the contract table's to say (`shared.contracts.topics`); this module only
creates them, each with its dead-letter topic.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from shared.contracts.topics import topic_names

DOMAIN_TOPICS: tuple[str, ...] = topic_names()
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


def ensure_topics(bootstrap_servers: str, specs: Iterable[TopicSpec], timeout_s: float = 30.0) -> list[str]:
    """Create the topics that do not exist yet; return the names created now.

    Domain topics keep their records forever (`retention.ms=-1`) so compliance can replay
    from offset 0.
    """
    wanted = list(specs)
    deadline = time.monotonic() + timeout_s
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="qyzmet-topics")
    try:
        existing = set(admin.list_topics())
        missing = [spec for spec in wanted if spec.name not in existing]
        created: list[str] = []
        for spec in missing:
            new = NewTopic(
                name=spec.name,
                num_partitions=spec.partitions,
                replication_factor=1,
                topic_configs={"retention.ms": "-1"},
            )
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
