"""aiokafka clients configured the same way in every process."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner, murmur2

from shared.messaging import fetch_wait

fetch_wait.install()  # every consumer of the process waits when there is nothing to fetch

BATCH_BYTES = 512 * 1024
"""Records a producer buffers per partition before `send` waits (aiokafka's default: 16 KiB),
within the 1 MiB request limit. An outbox relay hands over a page of up to 1000 events at once:
at 16 KiB about a dozen events filled a partition's batch, and the next `send` to it waited until
the batch left, which is once the broker answered the request before (aiokafka keeps one request
in flight per broker): a page of 500 decisions (~600 KB on six partitions) took ~7 round trips,
0.6 s between two pages under load, and the relay fell behind the decision consumer (issue 14).
Batches still leave after `linger_ms`: a send alone is not held back."""


KEYS_KEPT = 8192
"""Keys whose hash a producer's partitioner keeps (`KeyPartitions`)."""


class KeyPartitions:
    """aiokafka's default partitioner (murmur2 of the key, as Kafka's Java clients place keys)
    that keeps each recent key's hash: an outbox relay sends a case's events one after another
    under the same key, and murmur2 in pure Python cost ~4 µs a key (issue 14: a quarter of the
    relay's `send`). The partition is the same as the default's, for any partition count."""

    def __init__(self, kept: int = KEYS_KEPT) -> None:
        self.kept = kept
        self._hashes: dict[bytes, int] = {}
        self._default = DefaultPartitioner()

    def __call__(self, key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
        if key.__class__ is not bytes:  # None (any partition), or a key that is not hashable
            return int(self._default(key, all_partitions, available))
        hashed = self._hashes.get(key)
        if hashed is None:
            if len(self._hashes) >= self.kept:
                self._hashes.clear()
            hashed = self._hashes[key] = murmur2(key) & 0x7FFFFFFF
        return all_partitions[hashed % len(all_partitions)]


def make_producer(
    bootstrap_servers: str, *, idempotent: bool = True, client_id: str = "qyzmet"
) -> AIOKafkaProducer:
    """A producer that waits for all in-sync replicas; idempotent where the broker supports it."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=idempotent,
        linger_ms=5,
        max_batch_size=BATCH_BYTES,
        partitioner=KeyPartitions(),
    )


def producer_factory(
    bootstrap_servers: str, *, idempotent: bool = True, client_id: str = "qyzmet-relay"
) -> Callable[[], Awaitable[AIOKafkaProducer]]:
    """Creates and starts a fresh producer on each call: an outbox relay's `producer_factory`, so
    that after a fatal producer error it publishes again with a new producer id."""

    async def start_one() -> AIOKafkaProducer:
        producer = make_producer(bootstrap_servers, idempotent=idempotent, client_id=client_id)
        try:
            await producer.start()
        except BaseException:
            # a relay asks again next round while the broker is away: each failed start would
            # otherwise leave its client's connections and tasks behind
            from shared.runtime.shutdown import bounded

            await bounded("stop a producer that did not start", producer.stop())
            raise
        return producer

    return start_one


def make_consumer(
    bootstrap_servers: str,
    topics: Sequence[str],
    *,
    group_id: str,
    instance_id: str | None,
    session_timeout_ms: int = 6000,
    heartbeat_interval_ms: int = 2000,
    max_poll_interval_ms: int = 1_800_000,
) -> AIOKafkaConsumer:
    """A group consumer with manual commits and static membership (stable `instance_id`).

    Static membership lets a worker killed with SIGKILL and restarted under the same id get
    its partitions back at once (KIP-345; see ARCHITECTURE.md on noida-db).
    """
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap_servers,
        group_id=group_id,
        group_instance_id=instance_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=heartbeat_interval_ms,
        max_poll_records=500,
        # Longer than a poll's worst case (records waiting for what they refer to: RetryLater),
        # so a slow but healthy member is not dropped from its group and rewound in a loop.
        max_poll_interval_ms=max_poll_interval_ms,
    )
