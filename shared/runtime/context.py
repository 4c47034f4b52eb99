"""What a running service process holds: its pool, producer, event store and audit log."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaProducer

from shared.audit import AuditLog
from shared.audit.keys import AuditSettings
from shared.audit.relay import AUDIT_TOPIC, AuditRelay
from shared.contracts.routes import Route
from shared.db.pool import create_pool
from shared.eventstore import EventStore
from shared.messaging.kafka import make_producer, producer_factory
from shared.messaging.relay import OutboxRelay
from shared.runtime.database import (
    await_migrations,
    database_url_variable,
    service_database_url,
    startup_wait_s,
    when_ready,
)
from shared.runtime.shutdown import bounded, close_pool
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

    def audit_relay(self) -> AuditRelay:
        """Publishes the schema's audit records and chain anchors on `audit.v1`."""
        interval = AuditSettings().anchor_interval_s
        assert self.settings.kafka_bootstrap_servers is not None
        fresh = producer_factory(
            self.settings.kafka_bootstrap_servers,
            idempotent=self.settings.kafka_idempotent_producer,
            client_id=f"{self.service}-audit-relay",
        )
        return AuditRelay(
            self.pool, self.schema, self.producer, self.topic(AUDIT_TOPIC), anchor_interval_s=interval,
            producer_factory=fresh,
        )  # fmt: skip


def require_infrastructure(settings: PlatformSettings, service: str) -> tuple[str, str]:
    """The database URL `service` starts from (its own `<SERVICE>_DATABASE_URL`, else the
    administrator's `DATABASE_URL`) and the Kafka bootstrap servers; both must be given."""
    database_url = os.environ.get(database_url_variable(service), "").strip() or settings.database_url
    if not database_url or not settings.kafka_bootstrap_servers:
        raise InfrastructureMissing(
            f"{database_url_variable(service)} (or DATABASE_URL) and KAFKA_BOOTSTRAP_SERVERS must be set;"
            ' run `eval "$(qyzmet infra up)"` first or use `qyzmet run`, which starts everything'
        )
    return database_url, settings.kafka_bootstrap_servers


async def connect_when_ready(
    dsn: str, *, wait_s: float | None = None, min_size: int = 2, max_size: int = 20
) -> asyncpg.Pool:
    """A pool, once PostgreSQL answers: a process started while the database restarts or fails
    over waits for it (jittered back-off, `QYZMET_DB_STARTUP_WAIT_S`, default 300 s) instead of
    exiting; after the wait the last error is raised."""
    budget = startup_wait_s() if wait_s is None else wait_s
    return await when_ready(lambda: create_pool(dsn, min_size=min_size, max_size=max_size), budget)


async def open_service_pool(
    service: str,
    schema: str,
    migrations: tuple[str, ...],
    settings: PlatformSettings,
    *,
    min_size: int = 2,
    max_size: int = 20,
) -> asyncpg.Pool:
    """A pool connected as the service's own login role, on a migrated schema
    (`shared.runtime.database`: with only the administrator's URL, the role is made and the schema
    migrated first; with the service's own URL, wait until `qyzmet db setup` has migrated it)."""
    url = await service_database_url(service, schema, migrations, settings)
    pool = await connect_when_ready(url, min_size=min_size, max_size=max_size)
    try:
        await await_migrations(pool, schema, migrations)
    except BaseException:
        await pool.close()
        raise
    return pool


@asynccontextmanager
async def service_context(
    service: str, schema: str, migrations: tuple[str, ...], settings: PlatformSettings | None = None
) -> AsyncIterator[ServiceContext]:
    """Connect as the service's login role to its migrated schema (`open_service_pool`), start a
    producer; close everything on exit."""
    settings = settings or PlatformSettings()
    _, bootstrap = require_infrastructure(settings, service)
    pool = await open_service_pool(service, schema, migrations, settings)
    try:
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
            await bounded("stop the producer", producer.stop())
    finally:
        await close_pool(pool)
