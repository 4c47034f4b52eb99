"""What a running service process holds: its pool, producer, event store and audit log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaProducer

from shared.audit import AuditLog
from shared.contracts.routes import Route
from shared.db.pool import create_pool
from shared.eventstore import EventStore, apply_migrations
from shared.messaging.kafka import make_producer, producer_factory
from shared.messaging.relay import OutboxRelay
from shared.settings import PlatformSettings


class InfrastructureMissing(RuntimeError):
    pass


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


@asynccontextmanager
async def service_context(
    service: str, schema: str, migrations: tuple[str, ...], settings: PlatformSettings | None = None
) -> AsyncIterator[ServiceContext]:
    """Connect, apply the schema's migrations, start a producer; close everything on exit."""
    settings = settings or PlatformSettings()
    database_url, bootstrap = require_infrastructure(settings)
    pool = await create_pool(database_url, min_size=2, max_size=20)
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
