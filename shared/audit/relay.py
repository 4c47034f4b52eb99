"""Publish a schema's audit records and, at intervals, its chain anchors on `audit.v1`.

Records go out in chain order, keyed `<schema>/<chain>` (one chain stays in one partition, in
order); a checkpoint per chain in `audit_relay_checkpoints` moves once the broker acknowledged
them (at-least-once: a consumer may see a record twice). Every `anchor_interval_s` the head of
each chain that grew since its last anchor is published as an anchor (`shared.audit.anchors`),
which the compliance side keeps outside the database. One relay per schema publishes at a time:
a round holds a row lock (FOR UPDATE SKIP LOCKED) on the single row of `audit_relay_lock`, which
only the service's role and the owner can reach (an advisory lock needs no privilege, so any role
could have stopped the relay); no connection is held between rounds. A relay kept from that row
for `lock_warn_after_s` logs a warning, and `qyzmet_audit_relay_lock_wait_seconds` says how long.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer

from shared.audit.anchors import ANCHOR_KIND, RECORD_KIND, Anchor
from shared.audit.log import AuditLog, record_of
from shared.db.identifiers import checked_identifier
from shared.messaging.kafka import make_producer
from shared.messaging.relay_errors import needs_new_producer
from shared.metrics import AUDIT_RELAY_LOCK_WAIT
from shared.runtime.shutdown import bounded

log = structlog.get_logger(__name__)

KIND_HEADER = "qyzmet_kind"
AUDIT_TOPIC = "audit.v1"


def _value(message: dict[str, object]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


class AuditRelay:
    def __init__(
        self,
        pool: asyncpg.Pool | None,
        schema: str,
        producer: AIOKafkaProducer,
        topic: str,
        *,
        anchor_interval_s: float,
        poll_s: float = 1.0,
        batch: int = 500,
        lock_warn_after_s: float = 120.0,
        producer_factory: Callable[[], Awaitable[AIOKafkaProducer]] | None = None,
    ) -> None:
        """`producer_factory`: a fresh producer after a fatal producer error (a broker that lost
        its idempotence state answers OutOfOrderSequenceNumber to the old one for ever)."""
        self.pool = pool
        self.schema = checked_identifier(schema)
        self.producer = producer
        self.producer_factory = producer_factory
        self._owns_producer = False
        self.renewals = 0
        self.topic = topic
        self.anchor_interval_s = anchor_interval_s
        self.poll_s = poll_s
        self.batch = batch
        self._log = AuditLog(self.schema)
        self._anchored_at = float("-inf")
        self.lock_warn_after_s = lock_warn_after_s
        self._locked_at = time.monotonic()
        self._warned = False

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                sent = 0
                try:
                    sent = await self.run_once()
                except Exception as exc:  # the database or the broker away: try again after a pause
                    log.warning("audit relay interrupted", schema=self.schema, error=type(exc).__name__)
                    if needs_new_producer(exc, self.producer):
                        await self._renew_producer(exc)
                if sent < self.batch:
                    await _sleep(stop, self.poll_s)
        finally:
            if self._owns_producer:
                await bounded("stop the relay's producer", self.producer.stop())

    async def _renew_producer(self, error: BaseException) -> None:
        """A fresh producer of its own (the one it was given stays the giver's to stop)."""
        if self.producer_factory is None:
            return
        log.error("audit relay: fatal producer error, starting a fresh producer", schema=self.schema,
                  error=type(error).__name__)  # fmt: skip
        old, owned = self.producer, self._owns_producer
        try:
            self.producer = await self.producer_factory()
        except Exception as exc:  # the broker still away: the next round's error tries again
            log.warning("audit relay: no fresh producer yet", schema=self.schema, error=type(exc).__name__)
            return
        self._owns_producer = True
        self.renewals += 1
        if owned:
            await bounded("stop the relay's old producer", old.stop())

    async def run_once(self) -> int:
        """One round, if no other relay of the schema is in one (a row lock for the transaction,
        so no connection is held between rounds): publish what is new, and anchors when due."""
        assert self.pool is not None, "a relay that runs needs a pool"
        async with self.pool.acquire() as conn, conn.transaction():
            if not await self._lock(conn):
                self._kept_from_lock()
                return 0
            self._locked_at, self._warned = time.monotonic(), False
            AUDIT_RELAY_LOCK_WAIT.labels(self.schema).set(0)
            sent = await self.publish_records(conn)
            if time.monotonic() - self._anchored_at >= self.anchor_interval_s:
                await self.publish_anchors(conn)
                self._anchored_at = time.monotonic()
            return sent

    async def _lock(self, conn: asyncpg.Connection) -> bool:
        """The relay's row, locked until the round's transaction ends; False if another holds it.
        A missing row is made again (and is then locked by this transaction)."""
        mine = f"SELECT singleton FROM {self.schema}.audit_relay_lock FOR UPDATE SKIP LOCKED"
        if await conn.fetchval(mine):
            return True
        made = await conn.fetchval(
            f"INSERT INTO {self.schema}.audit_relay_lock (singleton) VALUES (true)"
            " ON CONFLICT DO NOTHING RETURNING singleton"
        )
        return bool(made)

    def _kept_from_lock(self) -> None:
        waited = time.monotonic() - self._locked_at
        AUDIT_RELAY_LOCK_WAIT.labels(self.schema).set(waited)
        if waited >= self.lock_warn_after_s and not self._warned:
            self._warned = True
            log.warning("audit relay cannot get its lock", schema=self.schema, waited_s=round(waited, 1))

    async def _checkpoints(self, conn: asyncpg.Connection) -> dict[str, tuple[int, int]]:
        rows = await conn.fetch(f"SELECT chain, seq, anchored_seq FROM {self.schema}.audit_relay_checkpoints")
        return {row["chain"]: (row["seq"], row["anchored_seq"]) for row in rows}

    async def publish_records(self, conn: asyncpg.Connection) -> int:
        """Publish the records not yet published (at most `batch` per chain); returns how many."""
        rows = await conn.fetch(
            f"WITH chains AS ({self._log.chains_sql()})"
            f" SELECT a.* FROM chains AS c LEFT JOIN {self.schema}.audit_relay_checkpoints AS k USING (chain)"
            f" CROSS JOIN LATERAL (SELECT * FROM {self.schema}.audit_log AS l WHERE l.chain = c.chain"
            "  AND l.seq > coalesce(k.seq, 0) ORDER BY l.seq LIMIT $1) AS a",
            self.batch,
        )  # one statement per poll, whatever the number of chains
        if not rows:
            return 0
        sending = []
        last: dict[str, int] = {}
        for row in rows:
            record = record_of(row)
            message = {"kind": RECORD_KIND, "schema": self.schema, **record.as_json()}
            sending.append(await self._send(record.chain, RECORD_KIND, message))
            last[record.chain] = record.seq
        await asyncio.gather(*sending)
        await conn.execute(
            f"INSERT INTO {self.schema}.audit_relay_checkpoints (chain, seq)"
            " SELECT * FROM unnest($1::text[], $2::bigint[])"
            " ON CONFLICT (chain) DO UPDATE SET seq = EXCLUDED.seq, updated_at = now()",
            list(last), list(last.values()),
        )  # fmt: skip
        return len(rows)

    async def publish_anchors(self, conn: asyncpg.Connection) -> list[Anchor]:
        """An anchor of the head of every chain that grew since its last anchor."""
        done = await self._checkpoints(conn)
        anchors = []
        for chain in await self._log.chains(conn):
            seq, mac = await self._log.head(conn, chain)
            if seq < done.get(chain, (0, 0))[1]:
                log.error("audit chain is shorter than its last anchor", schema=self.schema, chain=chain)
            if seq != done.get(chain, (0, 0))[1]:
                anchors.append(Anchor(self.schema, chain, seq, mac, datetime.now(UTC).isoformat()))
        if not anchors:
            return []
        await asyncio.gather(*[await self._send(a.chain, ANCHOR_KIND, a.as_json()) for a in anchors])
        await conn.execute(
            f"INSERT INTO {self.schema}.audit_relay_checkpoints (chain, seq, anchored_seq)"
            " SELECT c, 0, s FROM unnest($1::text[], $2::bigint[]) AS t(c, s)"
            " ON CONFLICT (chain) DO UPDATE SET anchored_seq = EXCLUDED.anchored_seq, updated_at = now()",
            [a.chain for a in anchors], [a.seq for a in anchors],
        )  # fmt: skip
        return anchors

    async def _send(self, chain: str, kind: str, message: dict[str, object]) -> asyncio.Future[object]:
        delivered: asyncio.Future[object] = await self.producer.send(
            self.topic,
            _value(message),
            key=f"{self.schema}/{chain}".encode(),
            headers=[(KIND_HEADER, kind.encode())],
        )
        return delivered


async def publish_pending(
    conn: asyncpg.Connection, schema: str, bootstrap: str, topic: str, *, idempotent: bool = True
) -> tuple[int, int]:
    """Publish what a schema without a relay of its own (the catalog's, written by commands) has
    not published yet, and an anchor of each chain that grew: (records, anchors) sent."""
    producer = make_producer(bootstrap, idempotent=idempotent, client_id="qyzmet-audit-publish")
    await producer.start()
    try:
        relay = AuditRelay(None, schema, producer, topic, anchor_interval_s=0)
        sent = 0
        while published := await relay.publish_records(conn):
            sent += published
        return sent, len(await relay.publish_anchors(conn))
    finally:
        await producer.stop()


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
