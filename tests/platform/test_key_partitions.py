"""The producers' partitioner keeps recent keys' hashes (issue 14) and places every key where
aiokafka's default partitioner (Kafka's murmur2) does, for any partition count; a relay's
fresh producer that fails to start is stopped."""

from __future__ import annotations

import random

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError
from aiokafka.partitioner import DefaultPartitioner

from shared.messaging import kafka
from shared.messaging.kafka import KeyPartitions


def test_every_key_goes_where_the_default_puts_it() -> None:
    mine, default = KeyPartitions(kept=50), DefaultPartitioner()
    keys = [f"case-{i:032x}".encode() for i in range(300)] + [b"", "заявка-1".encode()]
    for partitions in ([0], list(range(6)), list(range(7)), list(range(32))):
        for key in keys * 2:  # the second time from what it kept (or after emptying it)
            assert mine(key, partitions, partitions) == default(key, partitions, partitions)


def test_the_hashes_kept_stay_bounded_and_a_keyless_record_goes_anywhere() -> None:
    mine = KeyPartitions(kept=10)
    for i in range(100):
        mine(str(i).encode(), [0, 1, 2], [0, 1, 2])
        assert len(mine._hashes) <= 10
    random.seed(7)
    assert {mine(None, [0, 1, 2], [2]) for _ in range(20)} == {2}  # only an available one
    assert {mine(None, [0, 1, 2], []) for _ in range(60)} == {0, 1, 2}
    placed = DefaultPartitioner()(b"case-1", [0, 1, 2], [0, 1, 2])
    assert mine(bytearray(b"case-1"), [0, 1, 2], [0, 1, 2]) == placed  # not kept, still placed alike


async def test_producers_use_it() -> None:
    producer = kafka.make_producer("127.0.0.1:1")  # not started: nothing is sent
    assert isinstance(producer._partitioner, KeyPartitions)


async def test_a_fresh_producer_that_does_not_start_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    """A relay asks for a fresh producer each round while the broker is away: one that failed to
    start is stopped, not left with its client's connections and tasks."""
    stopped: list[object] = []

    async def refuse(self: AIOKafkaProducer) -> None:
        raise KafkaConnectionError("the broker is still restarting")

    async def stop(self: AIOKafkaProducer) -> None:
        stopped.append(self)

    monkeypatch.setattr(AIOKafkaProducer, "start", refuse)
    monkeypatch.setattr(AIOKafkaProducer, "stop", stop)
    with pytest.raises(KafkaConnectionError):
        await kafka.producer_factory("127.0.0.1:1")()
    assert len(stopped) == 1
