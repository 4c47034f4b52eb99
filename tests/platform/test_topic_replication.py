"""Topics are created with the replication production needs (KAFKA_REPLICATION_FACTOR) and, with
replicas, a minimum of in-sync replicas, so an acknowledged record survives one broker's loss."""

from __future__ import annotations

import pytest

from shared.messaging.topics import TopicSpec, new_topic, replication_from_env


def test_a_single_local_broker_gets_one_replica_and_no_in_sync_minimum() -> None:
    topic = new_topic(TopicSpec("decisions.v1", 6), 1)
    assert topic.replication_factor == 1 and topic.num_partitions == 6
    assert topic.topic_configs == {"retention.ms": "-1"}


@pytest.mark.parametrize(("replicas", "in_sync"), [(2, "1"), (3, "2"), (5, "2")])
def test_replicated_topics_require_in_sync_replicas(replicas: int, in_sync: str) -> None:
    topic = new_topic(TopicSpec("decisions.v1", 24), replicas)
    assert topic.replication_factor == replicas
    assert topic.topic_configs == {"retention.ms": "-1", "min.insync.replicas": in_sync}


def test_the_factor_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_REPLICATION_FACTOR", raising=False)
    assert replication_from_env() == 1
    monkeypatch.setenv("KAFKA_REPLICATION_FACTOR", "3")
    assert replication_from_env() == 3
    monkeypatch.setenv("KAFKA_REPLICATION_FACTOR", "0")
    with pytest.raises(ValueError, match="at least 1"):
        replication_from_env()
