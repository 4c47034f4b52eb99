"""Consumer lag: how far a consumer group's committed offsets are behind the topics' end offsets.

Measured from the outside, as a lag exporter does (the broker's committed offsets against its end
offsets), so it is the same for any worker runtime; a worker runs `LagMonitor.run` beside its
agents and the gauge `qyzmet_consumer_lag_records{group, topic}` is the sum over partitions. The
same pass counts the records on the consumed topics' dead-letter topics (`qyzmet_dlq_records`).
The worker's liveness watchdog (`shared.runtime.liveness`) reads its partitions' lag through the
same monitor, so one admin client and one offsets consumer serve both.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.messaging.topics import dlq_of
from shared.metrics import CONSUMER_LAG, DLQ_RECORDS

log = structlog.get_logger(__name__)


class LagMonitor:
    def __init__(self, bootstrap_servers: str, group: str, *, every_s: float = 5.0) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.group = group
        self.every_s = every_s
        self._admin: AIOKafkaAdminClient | None = None
        self._offsets: AIOKafkaConsumer | None = None
        self._opening = asyncio.Lock()  # the lag loop and the liveness watchdog share the clients

    async def _clients(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        async with self._opening:
            if self._admin is None or self._offsets is None:
                admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers, client_id="qyzmet-lag")
                offsets = AIOKafkaConsumer(bootstrap_servers=self.bootstrap_servers, client_id="qyzmet-lag")
                self._admin, self._offsets = admin, offsets  # so that `close` stops a half-started pair
                await admin.start()
                await offsets.start()
            return self._admin, self._offsets

    async def measure(self) -> dict[str, int]:
        """topic -> records not yet committed by the group (partitions it never committed count
        from nothing: they are not listed until the group commits there)."""
        admin, offsets = await self._clients()
        committed = await admin.list_consumer_group_offsets(self.group)
        mine = {tp: meta.offset for tp, meta in committed.items() if meta is not None and meta.offset >= 0}
        if not mine:
            return {}
        ends: dict[TopicPartition, int] = await offsets.end_offsets(list(mine))
        lag: dict[str, int] = {}
        for tp, done in mine.items():
            lag[tp.topic] = lag.get(tp.topic, 0) + max(0, ends.get(tp, done) - done)
        for topic, behind in lag.items():
            CONSUMER_LAG.labels(self.group, topic).set(behind)
        await self._count_dead_letters(offsets, sorted(lag))
        return lag

    async def waiting(self, partitions: Collection[TopicPartition], topics: Collection[str]) -> int | None:
        """Records on `partitions` past the group's committed offsets (a partition it never
        committed counts from its start); no partitions: the group's committed partitions of
        `topics`. None when that cannot be told now (broker away, nothing committed)."""
        try:
            admin, offsets = await self._clients()
            committed = await admin.list_consumer_group_offsets(self.group)
            wanted = list(partitions) or [tp for tp in committed if tp.topic in topics]
            if not wanted:
                return None
            ends: dict[TopicPartition, int] = await offsets.end_offsets(wanted)
        except Exception as exc:  # broker away: no judgement now
            log.info("consumer lag unknown", group=self.group, error=type(exc).__name__)
            await self.close()
            return None
        lag = 0
        for tp in wanted:
            meta = committed.get(tp)
            done = meta.offset if meta is not None and meta.offset >= 0 else 0
            lag += max(0, ends.get(tp, 0) - done)
        return lag

    async def _count_dead_letters(self, offsets: AIOKafkaConsumer, topics: list[str]) -> None:
        """Set `qyzmet_dlq_records` for the dead-letter topics of the consumed topics (records
        ever dead-lettered there: the topics are never compacted or trimmed)."""
        for topic in topics:
            dlq = dlq_of(topic)
            partitions = offsets.partitions_for_topic(dlq) or {0}
            ends = await offsets.end_offsets([TopicPartition(dlq, p) for p in sorted(partitions)])
            DLQ_RECORDS.labels(dlq).set(sum(ends.values()))

    async def run(self, stop: asyncio.Event) -> None:
        """Measure every `every_s` until `stop`; a broker that does not answer is tried again."""
        try:
            while not stop.is_set():
                try:
                    await self.measure()
                except Exception as exc:
                    log.warning("consumer lag unavailable", group=self.group, error=type(exc).__name__)
                    await self.close()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.every_s)
        finally:
            await self.close()

    async def close(self) -> None:
        admin, offsets = self._admin, self._offsets
        self._admin = self._offsets = None
        for client in (admin, offsets):
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.close() if isinstance(client, AIOKafkaAdminClient) else await client.stop()
