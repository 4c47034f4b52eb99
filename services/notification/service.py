"""The notification service as its entrypoints see it: one bus (with one unit of work and one
retry policy) for the Kafka consumers, the HTTP API and the delivery loops; reads for the API."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg

from services.notification.adapters.catalog import NotificationCatalog
from services.notification.adapters.channels import Channel, LoggingSms, PaperChannel, SmtpEmail
from services.notification.adapters.repository import NotificationStore
from services.notification.adapters.templates import Templates
from services.notification.adapters.webhook_store import WebhookStore
from services.notification.domain import commands as c
from services.notification.service_layer.attempts import AttemptHandlers
from services.notification.service_layer.dispatch import Dispatcher
from services.notification.service_layer.planning import Planner
from services.notification.service_layer.results import ResultHandlers
from services.notification.service_layer.unit_of_work import NotificationUnit
from services.notification.service_layer.webhooks import WebhookHandlers
from services.notification.settings import NotificationSettings
from shared.messaging.consumer import after_commit
from shared.service_layer import MessageBus, Meta, RetryPolicy

Clock = Callable[[], datetime]
RETRY = RetryPolicy(attempts=10, budget_s=10.0)


def utcnow() -> datetime:
    return datetime.now(UTC)


def default_channels(settings: NotificationSettings) -> dict[str, Channel]:
    """The shipped channels; SMS only with `NOTIFICATION_SMS_PROVIDER=logging` (development)."""
    channels: dict[str, Channel] = {
        "email": SmtpEmail(settings.smtp()),
        "post": PaperChannel("post"),
        "pickup": PaperChannel("pickup"),
    }
    if settings.sms_provider == "logging":
        channels["sms"] = LoggingSms()
    return channels


class NotificationService:
    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        settings: NotificationSettings | None = None,
        *,
        catalog: NotificationCatalog | None = None,
        templates: Templates | None = None,
        channels: Mapping[str, Channel] | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.pool = pool
        self.schema = schema
        self.settings = settings or NotificationSettings()
        self.clock = clock
        self.catalog = catalog or NotificationCatalog.load()
        self.planner = Planner(self.catalog, self.settings, clock)
        attempts = AttemptHandlers(self.settings, clock)
        results = ResultHandlers(self.planner, clock)
        webhooks = self.webhook_handlers = WebhookHandlers(self.settings, clock)
        table: dict[type, Any] = {
            c.NotifyOn: self.planner.handle,
            c.FanOut: webhooks.fan_out,
            c.RecordAttempt: attempts.record,
            c.RecordAttempts: attempts.record_all,
            c.RecordWebhookAttempt: attempts.record_webhook,
            c.CollectResult: results.collect,
            c.ExpireKeeping: results.expire,
            c.ReadLetters: results.letters,
            c.ReadNotifications: results.notifications,
            c.ReadManifest: results.manifest,
            c.Subscribe: webhooks.subscribe,
            c.Unsubscribe: webhooks.unsubscribe,
            c.Redeliver: webhooks.redeliver,
        }
        self.bus: MessageBus[NotificationUnit] = MessageBus(table, self.unit, RETRY)
        self.dispatcher = Dispatcher(
            pool,
            schema,
            self.bus,
            templates or Templates(),
            channels if channels is not None else default_channels(self.settings),
            self.settings,
            clock,
        )

    def unit(self) -> NotificationUnit:
        return NotificationUnit(self.pool, self.schema)

    async def execute(self, command: object, meta: Meta, *, conn: asyncpg.Connection | None = None) -> Any:
        """Run a command; with `conn`, inside that connection's open transaction (a consumer's
        inbox batch, whose owner runs the after-commit actions)."""
        within = self.unit().joined(conn, pass_on=after_commit) if conn is not None else None
        return await self.bus.handle(command, meta, within=within)

    # ------------------------------------------------------------------ reads

    async def notifications_of(self, application_id: str) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            return await NotificationStore(self.schema, conn).of_application(application_id)

    async def subscriptions(self) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            return await WebhookStore(self.schema, conn).subscriptions()

    async def delivery_log(
        self, subscription_id: Any, since: datetime | None, limit: int
    ) -> list[dict[str, Any]] | None:
        async with self.pool.acquire() as conn:
            store = WebhookStore(self.schema, conn)
            if await store.subscription(subscription_id) is None:
                return None
            return await store.log(subscription_id, since, limit)

    async def healthy(self) -> bool:
        try:
            async with self.pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False
        return True
