"""delete_topics: a benchmark round's or a test system's topics go when it ends (issue 14: the
local broker rewrites all it holds at each snapshot, so topics left behind slowed every later
measurement), by name or by the run's own prefix, never anybody else's."""

from __future__ import annotations

import pytest
from kafka import KafkaAdminClient

from shared.infra import KafkaHandle
from shared.messaging.topics import TopicSpec, delete_topics, ensure_topics


def _topics(bootstrap: str) -> set[str]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return set(admin.list_topics())
    finally:
        admin.close()


@pytest.mark.timeout(120)
def test_the_runs_topics_go_and_no_other(broker: KafkaHandle, topic_prefix: str) -> None:
    run, other = topic_prefix + "run.", topic_prefix + "other."
    mine = [run + "a.v1", run + "b.v1"]
    theirs, named = other + "kept.v1", other + "named.v1"
    ensure_topics(broker.bootstrap_servers, [TopicSpec(t, 2) for t in [*mine, theirs, named]])

    deleted = delete_topics(broker.bootstrap_servers, [named, other + "never-made.v1"], prefix=run)

    assert deleted == sorted([*mine, named])
    left = _topics(broker.bootstrap_servers)
    assert theirs in left and not left & {*mine, named}
    assert delete_topics(broker.bootstrap_servers, prefix=run) == []  # nothing left to delete


def test_an_empty_prefix_is_refused(broker: KafkaHandle) -> None:
    with pytest.raises(ValueError, match="every topic"):
        delete_topics(broker.bootstrap_servers, prefix="")


def test_a_quiet_clean_up_that_fails_raises_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In a `finally` block the clean-up must not replace what went wrong before it."""
    import kafka

    def unreachable(**_: object) -> None:
        raise kafka.errors.BrokerNotAvailableError()

    monkeypatch.setattr(kafka, "KafkaAdminClient", unreachable)
    assert delete_topics("127.0.0.1:1", prefix="bench-gone.", quiet=True) == []
    with pytest.raises(kafka.errors.BrokerNotAvailableError):
        delete_topics("127.0.0.1:1", prefix="bench-gone.")
