"""What a running service process holds: its pool, producer, event store and audit log."""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer

from shared.audit import AuditLog
from shared.contracts.routes import Route
from shared.db.pool import create_pool
from shared.eventstore import EventStore, apply_migrations
from shared.messaging.kafka import make_producer, producer_factory
from shared.messaging.relay import OutboxRelay
from shared.service_layer.retry import is_retryable
from shared.settings import PlatformSettings


class InfrastructureMissing(RuntimeError):
    pass


log = structlog.get_logger(__name__)


@dataclass
class ServiceContext:
    service: str
    schema: str
    settings: PlatformSettings
    pool: asyncpg.Pool
    producer: AIOKafkaProducer
    store: EventStore
    audit: AuditLog

    def topic(self, name: str) -> str:
        return self.settings.topic_prefix + name

    def relay(self, route: Route, source: str) -> OutboxRelay:
        """The service's outbox relay, able to replace its producer after a fatal producer error
        (out-of-order sequence, fenced or unknown producer: a broker that lost its state)."""
        assert self.settings.kafka_bootstrap_servers is not None
        fresh = producer_factory(
            self.settings.kafka_bootstrap_servers,
            idempotent=self.settings.kafka_idempotent_producer,
            client_id=f"{self.service}-relay",
        )
        return OutboxRelay(self.pool, self.store, self.producer, route, source, producer_factory=fresh)


def require_infrastructure(settings: PlatformSettings) -> tuple[str, str]:
    if not settings.database_url or not settings.kafka_bootstrap_servers:
        raise InfrastructureMissing(
            'DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS must be set; run `eval "$(qyzmet infra up)"` first'
            " or use `qyzmet run`, which starts everything"
        )
    return settings.database_url, settings.kafka_bootstrap_servers


async def connect_when_ready(
    dsn: str, *, wait_s: float | None = None, min_size: int = 2, max_size: int = 20
) -> asyncpg.Pool:
    """A pool, once PostgreSQL answers: a process started while the database restarts or fails
    over waits for it (jittered back-off, `QYZMET_DB_STARTUP_WAIT_S`, default 300 s) instead of
    exiting; after the wait the last error is raised."""
    budget = wait_s if wait_s is not None else float(os.environ.get("QYZMET_DB_STARTUP_WAIT_S", "300"))
    started = time.monotonic()
    delay = 0.2
    while True:
        try:
            return await create_pool(dsn, min_size=min_size, max_size=max_size)
        except Exception as exc:
            if not is_retryable(exc) or time.monotonic() - started + delay > budget:
                raise
            log.warning("database not ready, waiting", error=type(exc).__name__, retry_in_s=round(delay, 2))
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, 5.0)


@asynccontextmanager
async def service_context(
    service: str, schema: str, migrations: tuple[str, ...], settings: PlatformSettings | None = None
) -> AsyncIterator[ServiceContext]:
    """Connect, apply the schema's migrations, start a producer; close everything on exit."""
    settings = settings or PlatformSettings()
    database_url, bootstrap = require_infrastructure(settings)
    pool = await connect_when_ready(database_url)
    try:
        async with pool.acquire() as conn:
            await apply_migrations(conn, schema, *migrations)
        producer = make_producer(bootstrap, idempotent=settings.kafka_idempotent_producer, client_id=service)
        await producer.start()
        try:
            yield ServiceContext(
                service=service,
                schema=schema,
                settings=settings,
                pool=pool,
                producer=producer,
                store=EventStore(schema),
                audit=AuditLog(schema),
            )
        finally:
            await producer.stop()
    finally:
        await pool.close()
