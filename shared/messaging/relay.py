"""Transactional-outbox relay: publish a service's stored events to Kafka in commit order.

The event table is the outbox. The relay tails it with the gap-safe reader, sends each event to
the topic its route names, keyed by stream id (one application's events stay in one partition, in
order), waits for the broker's acknowledgements and only then moves its checkpoint in PostgreSQL.
A crash between send and checkpoint re-sends: delivery is at-least-once, consumers are idempotent.

Recovery (`relay_errors` says which error is which):
- A fatal producer error (out-of-order sequence, unknown producer id, fenced epoch: a broker that
  lost its state, or that refused a batch) discards the producer; a fresh one from
  `producer_factory` publishes again from the checkpoint. Without a factory the relay keeps its
  producer (it may be shared) and says the error is fatal.
- An event the broker refuses for good (too large, invalid topic, policy) is parked in
  `relay_parked` with its reason and counted (`qyzmet_relay_parked_total`, an alert metric); the
  checkpoint moves past it instead of wedging.
- Leadership: one relay per (schema, name) holds a session advisory lock and, on taking it, bumps a
  leader epoch in its checkpoint row; every checkpoint write checks that epoch in the same UPDATE,
  so a relay that lost the lock can never move the checkpoint (`LeadershipLost`).
- After a broker lost acknowledged records (SIGKILL of the local broker), the relay compares its
  marks with what the topic holds and publishes the missing tail again (`relay_recovery`); this
  runs when it becomes leader and after every publishing failure.

Per-key order after an ack timeout. The checkpoint only moves over a prefix of the batch that is
acknowledged (or parked); everything after the first failure is sent again from there. With an
idempotent producer (the default, `make_producer`) this cannot put a later event of a key before an
earlier one: aiokafka keeps one batch in flight per partition and never expires an idempotent batch
on a retriable error (a timed-out request is retried with the same sequence number, and the broker
drops a duplicate), and the broker appends a batch only if its sequence follows the last one it
appended for that producer and partition. So what one producer got onto a partition is always a
prefix of what it sent there; if an earlier event failed, no later one of that producer landed
after it, and the re-send from the checkpoint (by the same or a fresh producer) starts at or before
the first missing event. The topic may hold duplicates, but the first copies are in stream order.
The same holds when a leader that has not noticed yet that it lost the lock still sends while its
successor starts: each sends in order from a checkpoint that only covers acknowledged events, so an
event's first copy always follows the first copies of the same key's earlier events.
Without idempotence (brokers that lack it) a failed batch followed by a successful one can reorder
a key; the relay logs every failure but cannot prevent that.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Awaitable, Callable

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from prometheus_client import Counter, Gauge

from shared.contracts.routes import Route
from shared.eventstore.records import GlobalCursor
from shared.eventstore.store import EventStore
from shared.messaging.relay_batch import Sent, send_batch, settle
from shared.messaging.relay_errors import BatchRefused, needs_new_producer
from shared.messaging.relay_ledger import LeadershipLost, Parked, RelayLedger
from shared.messaging.relay_recovery import rewind_point
from shared.metrics import RELAY_BACKLOG, RELAY_PUBLISHED
from shared.runtime.pacing import IdlePacing
from shared.runtime.shutdown import bounded

log = structlog.get_logger(__name__)

ProducerFactory = Callable[[], Awaitable[AIOKafkaProducer]]
"""Creates and starts a fresh producer (see `shared.messaging.kafka.producer_factory`)."""

PARKED_TOTAL = Counter(
    "qyzmet_relay_parked_total",
    "Events the broker refused for good, parked by the relay",
    ["schema", "relay"],
)
PARKED_EVENTS = Gauge("qyzmet_relay_parked_events", "Events parked and not yet resolved", ["schema", "relay"])
PRODUCER_RENEWALS = Counter(
    "qyzmet_relay_producer_renewals_total", "Producers discarded after a fatal error", ["schema", "relay"]
)
REWINDS = Counter(
    "qyzmet_relay_rewinds_total", "Re-publications after the broker lost records", ["schema", "relay"]
)

__all__ = ["LeadershipLost", "OutboxRelay", "ProducerFactory"]


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
        *,
        producer_factory: ProducerFactory | None = None,
        bootstrap_servers: str | None = None,
        marks_keep_s: float = 60.0,
    ) -> None:
        self.pool = pool
        self.store = store
        self.producer = producer
        self.route = route
        self.source = source
        self.name = name
        self.batch_size = batch_size
        self.producer_factory = producer_factory
        self.bootstrap_servers: str | None = bootstrap_servers or getattr(
            getattr(producer, "client", None), "_bootstrap_servers", None
        )
        self.marks_keep_s = marks_keep_s
        self.ledger = RelayLedger(store.schema, name)
        self.leader_epoch: int | None = None
        """Set while this relay is the leader (`run`); checkpoint writes are fenced by it."""
        self.published = 0
        self.failures = 0
        self.parked = 0
        self.renewals = 0
        self.rewinds = 0
        self._owns_producer = False
        self._verify = True
        self._isolate_until: GlobalCursor | None = None
        """After a refused batch: send one event at a time up to here, to find the refused one."""
        self._labels = (store.schema, name)

    async def checkpoint(self, conn: asyncpg.Connection) -> GlobalCursor:
        return await self.ledger.checkpoint(conn)

    async def run_once(self) -> int:
        """Publish one batch; return how many events were read (0 when caught up)."""
        async with self.pool.acquire() as conn:
            cursor = await self.checkpoint(conn)
            rows = await self.store.read_committed_for_publishing(conn, cursor, self._batch_limit())
            if rows:
                await self._settle_and_save(
                    conn, cursor, await send_batch(self.producer, self.route, self.source, rows)
                )
        return len(rows)

    def _batch_limit(self) -> int:
        return 1 if self._isolate_until is not None else self.batch_size

    async def drain(self, stop: asyncio.Event | None = None) -> int:
        """Publish everything committed so far; return how many events were read.

        The next batch is read from PostgreSQL while the broker acknowledges the previous one;
        the checkpoint still moves only past acknowledged (or parked) events.
        """
        total = 0
        async with self.pool.acquire() as conn:
            cursor = await self.checkpoint(conn)
            rows = await self.store.read_committed_for_publishing(conn, cursor, self._batch_limit())
            while rows:
                if stop is not None and stop.is_set():
                    break  # shutting down: what is not sent yet stays behind the checkpoint
                sent = await send_batch(self.producer, self.route, self.source, rows)
                last = rows[-1]
                total += len(rows)
                if self._isolate_until is None:  # read the next batch while this one is acknowledged
                    rows = await self.store.read_committed_for_publishing(
                        conn, GlobalCursor(last["txid"], last["position"]), self.batch_size
                    )
                cursor = await self._settle_and_save(conn, cursor, sent)
                if self._isolate_until is not None:
                    if (cursor.txid, cursor.position) >= (
                        self._isolate_until.txid,
                        self._isolate_until.position,
                    ):
                        self._isolate_until = None
                    rows = await self.store.read_committed_for_publishing(conn, cursor, self._batch_limit())
        return total

    async def _settle_and_save(
        self, conn: asyncpg.Connection, before: GlobalCursor, sent: list[Sent]
    ) -> GlobalCursor:
        done = await settle(sent)
        if isinstance(done.error, BatchRefused) and sent:
            last = sent[-1].row  # send one at a time up to here, to find the refused event
            self._isolate_until = GlobalCursor(last["txid"], last["position"])
        after = before
        if done.last is not None:
            after = GlobalCursor(done.last["txid"], done.last["position"])
            await self.ledger.save(conn, before, after, self.leader_epoch, done.parked, done.marks)
            self.published += done.acked
            RELAY_PUBLISHED.labels(*self._labels).inc(done.acked)
            if done.parked:
                self._count_parked(done.parked)
                PARKED_EVENTS.labels(*self._labels).set(await self.ledger.parked_count(conn))
        if done.error is not None:
            raise done.error
        return after

    def _count_parked(self, parked: list[Parked]) -> None:
        self.parked += len(parked)
        PARKED_TOTAL.labels(*self._labels).inc(len(parked))
        for event in parked:
            log.error(
                "relay: event refused by the broker, parked",
                relay=self.name,
                event_id=str(event.event_id),
                event_type=event.event_type,
                topic=event.topic,
                reason=event.reason,
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

    async def _report_backlog(self) -> None:
        """Set the backlog gauge (a count over the unpublished tail only: cheap while caught up)."""
        try:
            RELAY_BACKLOG.labels(*self._labels).set(await self.lag())
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("relay: backlog unavailable", error=type(exc).__name__)

    async def recover(self) -> bool:
        """Publish again what the topic lost of the last batches; True if the checkpoint was rewound."""
        if self.bootstrap_servers is None:
            return False
        async with self.pool.acquire() as conn:
            marks = await self.ledger.recent_marks(conn)
            point = await rewind_point(self.bootstrap_servers, marks)
            if point is None:
                await self.ledger.prune_marks(conn, self.marks_keep_s)
                return False
            await self.ledger.rewind(conn, point, self.leader_epoch)
        self.rewinds += 1
        REWINDS.labels(*self._labels).inc()
        return True

    async def _renew_producer(self, error: BaseException) -> None:
        self.renewals += 1
        PRODUCER_RENEWALS.labels(*self._labels).inc()
        if self.producer_factory is None:
            log.error(
                "relay: fatal producer error; no producer_factory, so the same producer is retried",
                relay=self.name,
                error=type(error).__name__,
            )
            return
        log.error(
            "relay: fatal producer error, starting a fresh producer",
            relay=self.name,
            error=type(error).__name__,
        )
        old, owned = self.producer, self._owns_producer
        self.producer = await self.producer_factory()
        self._owns_producer = True
        if owned:
            await bounded("stop the relay's old producer", old.stop())

    async def close(self) -> None:
        """Stop the producers this relay started itself (never the one it was given)."""
        if self._owns_producer:
            self._owns_producer = False
            await bounded("stop the relay's producer", self.producer.stop())

    async def run(
        self,
        stop: asyncio.Event,
        idle_sleep: float = 0.01,
        max_backoff: float = 30.0,
        lock_check_s: float = 2.0,
    ) -> None:
        """Publish until `stop` is set; only one relay of this name runs at a time (a session
        advisory lock, and the leader epoch that fences the checkpoint). Leadership is re-checked
        every `lock_check_s`: if the lock's connection is lost (and the lock with it), this relay
        stops publishing and competes for it again.

        A failure (broker unreachable, a timed-out send, a database hiccup) never ends the loop:
        the checkpoint has not moved past unacknowledged events, so they are sent again after a
        back-off (at-least-once)."""
        key = _lock_key(self.store.schema, self.name)
        backoff = idle_sleep
        try:
            while not stop.is_set():
                try:
                    async with self.pool.acquire() as lock_conn:
                        while not await lock_conn.fetchval("SELECT pg_try_advisory_lock($1)", key):
                            if await _wait(stop, 1.0):
                                return
                        try:
                            self.leader_epoch = await self.ledger.claim_leadership(lock_conn)
                            self._verify = True
                            await self._publish_while_leader(
                                lock_conn, stop, idle_sleep, max_backoff, lock_check_s
                            )
                        finally:
                            self.leader_epoch = None
                            await _unlock_or_drop(lock_conn, key)
                except Exception as exc:
                    self.failures += 1
                    backoff = min(max(backoff * 2, 0.5), max_backoff)
                    log.warning("relay: leadership lost, competing again", error=type(exc).__name__)
                    await _wait(stop, backoff)
        finally:
            await self.close()

    async def _publish_while_leader(
        self,
        lock_conn: asyncpg.Connection,
        stop: asyncio.Event,
        idle_sleep: float,
        max_backoff: float,
        lock_check_s: float,
    ) -> None:
        backoff = idle_sleep
        pacing = IdlePacing(busy_sleep=idle_sleep)  # idle for a while: looks only every 0.5 s
        checked = pruned = time.monotonic()
        while not stop.is_set():
            if time.monotonic() - checked >= lock_check_s:
                await lock_conn.fetchval("SELECT 1")  # raises if the session, and so the lock, is gone
                checked = time.monotonic()
                await self._report_backlog()
            if time.monotonic() - pruned >= self.marks_keep_s:
                await self.ledger.prune_marks(lock_conn, self.marks_keep_s)
                pruned = time.monotonic()
            try:
                if self._verify:
                    await self.recover()
                    self._verify = False
                idle = pacing.pause_after(await self.drain(stop) > 0)
                backoff = idle_sleep
            except LeadershipLost:
                raise
            except Exception as exc:
                self.failures += 1
                self._verify = True  # the broker may have restarted without what it acknowledged
                if needs_new_producer(exc, self.producer):
                    await self._renew_producer(exc)
                backoff = min(max(backoff * 2, 0.5), max_backoff)
                log.warning("relay: publishing failed, retrying", error=type(exc).__name__, backoff_s=backoff)
                idle = backoff
            if idle:
                await _wait(stop, idle)


async def _unlock_or_drop(conn: asyncpg.Connection, key: int) -> None:
    """Give up the leadership lock; a connection that cannot (broken, cancelled) is terminated,
    so that it never goes back to the pool still holding the lock (pooled connections are not
    reset on release: `shared.db.pool.keep_session`)."""
    try:
        if await conn.fetchval("SELECT pg_advisory_unlock($1)", key):
            return
    except asyncio.CancelledError:
        conn.terminate()
        raise
    except Exception:  # noqa: S110 (the session ends with the connection, and the lock with it)
        pass
    conn.terminate()


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to `seconds`; True if `stop` was set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()
