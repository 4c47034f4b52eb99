"""Transactional-outbox relay: publish a service's stored events to Kafka in commit order.

The event table is the outbox. The relay tails it with the gap-safe reader, sends each
event to the topic its route names, keyed by stream id (one application's events stay in
one partition, in order), waits for the broker's acknowledgements and only then moves its
checkpoint in PostgreSQL. A crash between send and checkpoint re-sends: delivery is
at-least-once and consumers are idempotent. One relay per (schema, name) runs at a time,
guarded by a session advisory lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer

from shared.contracts.routes import Route
from shared.eventstore.records import GlobalCursor
from shared.eventstore.store import EventStore
from shared.messaging.envelope import publishable

log = structlog.get_logger(__name__)


def _lock_key(schema: str, name: str) -> int:
    digest = hashlib.sha256(f"qyzmet-relay:{schema}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        store: EventStore,
        producer: AIOKafkaProducer,
        route: Route,
        source: str,
        name: str = "kafka",
        batch_size: int = 1000,
    ) -> None:
        self.pool = pool
        self.store = store
        self.producer = producer
        self.route = route
        self.source = source
        self.name = name
        self.batch_size = batch_size
        self.published = 0
        self.failures = 0

    async def checkpoint(self, conn: asyncpg.Connection) -> GlobalCursor:
        row = await conn.fetchrow(
            f"SELECT txid::text::bigint AS txid, position FROM {self.store.schema}.relay_checkpoints"
            " WHERE relay = $1",
            self.name,
        )
        return GlobalCursor() if row is None else GlobalCursor(row["txid"], row["position"])

    async def run_once(self) -> int:
        """Publish one batch; return how many events were read (0 when caught up)."""
        async with self.pool.acquire() as conn:
            cursor = await self.checkpoint(conn)
            rows = await self.store.read_committed_for_publishing(conn, cursor, self.batch_size)
            if rows:
                await asyncio.gather(*await self._send(rows))
                await self._save_checkpoint(conn, rows[-1])
        return len(rows)

    async def drain(self, stop: asyncio.Event | None = None) -> int:
        """Publish everything committed so far; return how many events were read.

        The next batch is read from PostgreSQL while the broker acknowledges the previous one;
        the checkpoint still moves only past acknowledged events.
        """
        total = 0
        async with self.pool.acquire() as conn:
            rows = await self.store.read_committed_for_publishing(
                conn, await self.checkpoint(conn), self.batch_size
            )
            while rows:
                if stop is not None and stop.is_set():
                    break  # shutting down: what is not sent yet stays behind the checkpoint
                in_flight = await self._send(rows)
                last = rows[-1]
                total += len(rows)
                rows = await self.store.read_committed_for_publishing(
                    conn, GlobalCursor(last["txid"], last["position"]), self.batch_size
                )
                await asyncio.gather(*in_flight)
                await self._save_checkpoint(conn, last)
        return total

    async def _send(self, rows: list[asyncpg.Record]) -> list[asyncio.Future[object]]:
        futures = []
        for row in rows:
            topic = self.route(row["event_type"])
            if topic is None:
                continue
            body, headers = publishable(row, self.source)
            futures.append(
                await self.producer.send(topic, value=body, key=row["stream_id"].encode(), headers=headers)
            )
        self.published += len(futures)
        return futures

    async def _save_checkpoint(self, conn: asyncpg.Connection, last: asyncpg.Record) -> None:
        await conn.execute(
            f"INSERT INTO {self.store.schema}.relay_checkpoints (relay, txid, position)"
            " VALUES ($1, $2::text::xid8, $3)"
            " ON CONFLICT (relay) DO UPDATE SET txid = excluded.txid, position = excluded.position,"
            " updated_at = now()",
            self.name,
            str(last["txid"]),
            last["position"],
        )

    async def lag(self) -> int:
        """Events stored but not yet published."""
        async with self.pool.acquire() as conn:
            cursor = await self.checkpoint(conn)
            lag: int = await conn.fetchval(
                f"SELECT count(*) FROM {self.store.schema}.events"
                " WHERE (txid, position) > ($1::text::xid8, $2)",
                str(cursor.txid),
                cursor.position,
            )
            return lag

    async def run(
        self,
        stop: asyncio.Event,
        idle_sleep: float = 0.05,
        max_backoff: float = 30.0,
        lock_check_s: float = 2.0,
    ) -> None:
        """Publish until `stop` is set; only one relay of this name runs at a time (a session
        advisory lock). Leadership is re-checked every `lock_check_s`: if the lock's connection
        is lost (and the lock with it), this relay stops publishing and competes for it again.

        A failure (broker unreachable, a timed-out send, a database hiccup) never ends the loop:
        the checkpoint has not moved past unacknowledged events, so they are sent again after a
        back-off (at-least-once)."""
        key = _lock_key(self.store.schema, self.name)
        backoff = idle_sleep
        while not stop.is_set():
            try:
                async with self.pool.acquire() as lock_conn:
                    while not await lock_conn.fetchval("SELECT pg_try_advisory_lock($1)", key):
                        if await _wait(stop, 1.0):
                            return
                    try:
                        await self._publish_while_leader(
                            lock_conn, stop, idle_sleep, max_backoff, lock_check_s
                        )
                    finally:
                        with contextlib.suppress(Exception):
                            await lock_conn.execute("SELECT pg_advisory_unlock($1)", key)
            except Exception as exc:
                self.failures += 1
                backoff = min(max(backoff * 2, 0.5), max_backoff)
                log.warning("relay: leadership lost, competing again", error=type(exc).__name__)
                await _wait(stop, backoff)

    async def _publish_while_leader(
        self,
        lock_conn: asyncpg.Connection,
        stop: asyncio.Event,
        idle_sleep: float,
        max_backoff: float,
        lock_check_s: float,
    ) -> None:
        backoff = idle_sleep
        checked = time.monotonic()
        while not stop.is_set():
            if time.monotonic() - checked >= lock_check_s:
                await lock_conn.fetchval("SELECT 1")  # raises if the session, and so the lock, is gone
                checked = time.monotonic()
            try:
                idle = idle_sleep if await self.drain(stop) == 0 else 0.0
                backoff = idle_sleep
            except Exception as exc:
                self.failures += 1
                backoff = min(max(backoff * 2, 0.5), max_backoff)
                log.warning("relay: publishing failed, retrying", error=type(exc).__name__, backoff_s=backoff)
                idle = backoff
            if idle:
                await _wait(stop, idle)


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to `seconds`; True if `stop` was set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()
