"""Wiring by hand: the notification service, its two consumers, relay route and delivery loop."""

from __future__ import annotations

import asyncio

import asyncpg
from aiokafka import AIOKafkaProducer

from services.notification.entrypoints.applicant_batch import NotifyTogether
from services.notification.entrypoints.kafka_handlers import (
    NOTIFYING,
    FanOutTogether,
    applicant_handler,
    webhook_handler,
)
from services.notification.service import NotificationService
from services.notification.settings import NotificationSettings
from shared.contracts.routes import Route, route_for
from shared.contracts.topics import registry_of
from shared.eventstore import EventStore
from shared.messaging.consumer import EventConsumer
from shared.messaging.kafka import make_consumer
from shared.messaging.relay import OutboxRelay
from shared.messaging.worker import consume_until

SCHEMA = "notification"
SERVICE = "notification"
MIGRATIONS = ("services.notification.adapters.sql",)
APPLICANT_TOPICS = ("applications.v1", "inspections.v1", "decisions.v1", "complaints.v1")
WEBHOOK_TOPICS = ("decisions.v1",)
DECISION_SOURCE = "/qyzmet/decision"


def route(prefix: str = "") -> Route:
    """Notification events to notifications.v1, from the contract table."""
    return route_for(SERVICE, prefix)


def build_service(
    pool: asyncpg.Pool, schema: str = SCHEMA, settings: NotificationSettings | None = None
) -> NotificationService:
    return NotificationService(pool, schema, settings or NotificationSettings())


def consumers(
    service: NotificationService, producer: AIOKafkaProducer
) -> tuple[EventConsumer, EventConsumer]:
    applicants = EventConsumer(
        "notification-applicants",
        service.pool,
        service.schema,
        registry_of(APPLICANT_TOPICS),
        applicant_handler(service, DECISION_SOURCE),
        producer,
        batch=NotifyTogether(service),
        handles=NOTIFYING,
    )
    webhooks = EventConsumer(
        "notification-webhooks",
        service.pool,
        service.schema,
        registry_of(WEBHOOK_TOPICS),
        webhook_handler(service),
        producer,
        batch=FanOutTogether(service),
    )
    return applicants, webhooks


async def run_worker(
    service: NotificationService,
    producer: AIOKafkaProducer,
    bootstrap_servers: str,
    stop: asyncio.Event,
    *,
    prefix: str = "",
    instance_id: str = "notification-worker-0",
    dispatch: bool = True,
) -> None:
    """Consume the four topics, relay notification events, deliver (plain aiokafka runtime)."""
    applicants, webhooks = consumers(service, producer)
    kafka_applicants = make_consumer(
        bootstrap_servers,
        [prefix + t for t in APPLICANT_TOPICS],
        group_id=prefix + "notification-worker",
        instance_id=instance_id,
    )
    kafka_webhooks = make_consumer(
        bootstrap_servers,
        [prefix + t for t in WEBHOOK_TOPICS],
        group_id=prefix + "notification-webhooks",
        instance_id=instance_id + "-webhooks",
    )
    relay = OutboxRelay(
        service.pool, EventStore(service.schema), producer, route(prefix), source=service.settings.source
    )
    await kafka_applicants.start()
    await kafka_webhooks.start()
    tasks = [
        asyncio.create_task(
            consume_until(kafka_applicants, applicants, stop), name="notification-applicants"
        ),
        asyncio.create_task(consume_until(kafka_webhooks, webhooks, stop), name="notification-webhooks"),
        asyncio.create_task(relay.run(stop), name="notification-relay"),
    ]
    if dispatch:
        tasks.append(
            asyncio.create_task(service.dispatcher.run(stop, instance_id), name="notification-dispatcher")
        )
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            if task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        stop.set()
        # Let a delivery batch under way finish (nothing is sent twice after a restart).
        await asyncio.wait(tasks, timeout=30)
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await kafka_applicants.stop()
        await kafka_webhooks.stop()
