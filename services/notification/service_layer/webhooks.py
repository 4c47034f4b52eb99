"""ЦОН webhooks in the service layer: fan a decision event out to the subscribers that want it
(one delivery each, exactly once), manage subscriptions, and queue redeliveries."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from services.notification.adapters.webhook_hosts import RefusedHost, check_public
from services.notification.adapters.webhook_store import WebhookEvent, WebhookStore
from services.notification.domain.commands import FanOut, Redeliver, Subscribe, Unsubscribe
from services.notification.domain.webhooks import Subscription, webhook_body
from services.notification.service_layer.unit_of_work import NotificationUnit
from services.notification.settings import NotificationSettings
from shared.contracts.topics import contract_of
from shared.domain.errors import InvalidInput, NotFound
from shared.service_layer import Meta

Clock = Callable[[], datetime]
MIN_SECRET = 16
SUBSCRIBABLE = frozenset(event.event_name for event in contract_of("decisions.v1").events)
"""What a ЦОН subscription may ask for: the events of decisions.v1."""


def _service_of(data: Any) -> str | None:
    value = getattr(data, "service_id", None)
    return value if isinstance(value, str) else None


def webhook_event(cmd: FanOut) -> WebhookEvent:
    """The event as kept for the subscribers (kept even when nobody subscribes yet: a subscriber
    registered later may ask for it)."""
    region = cmd.region or getattr(cmd.event, "region", None)
    body = webhook_body(
        cmd.event, event_id=cmd.event_id, source=cmd.source, time=cmd.time, subject=cmd.subject, region=region
    )
    return WebhookEvent(cmd.event_id, cmd.event.event_name, region, _service_of(cmd.event), cmd.time, body)


class WebhookHandlers:
    def __init__(self, settings: NotificationSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

    async def fan_out(self, cmd: FanOut, uow: NotificationUnit, meta: Meta) -> int:
        return await self.fan_out_all([webhook_event(cmd)], uow.webhooks)

    async def fan_out_all(self, events: Sequence[WebhookEvent], store: WebhookStore) -> int:
        """Keep the events and queue their deliveries, in one statement (how many were queued)."""
        now = self.clock()
        give_up = self.settings.webhook_backoff().give_up_at(now)
        return await store.save_and_queue(events, now, give_up)

    async def subscribe(self, cmd: Subscribe, uow: NotificationUnit, meta: Meta) -> dict[str, Any]:
        _check_url(cmd.url)
        if not self.settings.webhook_allow_private:
            try:
                await check_public(cmd.url)
            except RefusedHost as refused:
                raise InvalidInput(
                    "the webhook URL is not usable",
                    errors=[
                        {"field": "url", "reason": f"{refused} (refused: NOTIFICATION_WEBHOOK_ALLOW_PRIVATE)"}
                    ],
                ) from refused
        unknown = sorted(set(cmd.event_types) - SUBSCRIBABLE)
        if unknown:
            raise InvalidInput(
                "unknown event types",
                errors=[
                    {"field": "event_types", "reason": f"not events of decisions.v1: {', '.join(unknown)}"}
                ],
            )
        if len(cmd.secret) < MIN_SECRET:
            raise InvalidInput(
                "the secret is too short",
                errors=[{"field": "secret", "reason": f"at least {MIN_SECRET} characters"}],
            )
        sub = Subscription(str(uuid.uuid4()), cmd.url, cmd.regions, cmd.services, cmd.event_types)
        row = await uow.webhooks.add_subscription(sub, cmd.secret, meta.actor.subject, self.clock())
        await uow.audit_action(
            meta, "webhook.subscribed", f"webhook/{sub.subscription_id}",
            {"host": urlsplit(cmd.url).hostname, "regions": list(cmd.regions), "services": list(cmd.services),
             "event_types": list(cmd.event_types)},
        )  # fmt: skip
        return row

    async def unsubscribe(self, cmd: Unsubscribe, uow: NotificationUnit, meta: Meta) -> None:
        if not await uow.webhooks.deactivate(cmd.subscription_id):
            raise NotFound(f"no subscription {cmd.subscription_id}")
        await uow.audit_action(meta, "webhook.unsubscribed", f"webhook/{cmd.subscription_id}", {})

    async def redeliver(self, cmd: Redeliver, uow: NotificationUnit, meta: Meta) -> int:
        row = await uow.webhooks.subscription(cmd.subscription_id)
        if row is None or not row["active"]:
            raise NotFound(f"no active subscription {cmd.subscription_id}")
        now = self.clock()
        give_up = self.settings.webhook_backoff().give_up_at(now)
        count = await uow.webhooks.redeliver_since(_subscription(row), cmd.since, now, give_up)
        await uow.audit_action(
            meta, "webhook.redelivery", f"webhook/{cmd.subscription_id}",
            {"since": cmd.since.isoformat(), "queued": count},
        )  # fmt: skip
        return count


def _subscription(row: dict[str, Any]) -> Subscription:
    return Subscription(
        subscription_id=str(row["subscription_id"]),
        url=row["url"],
        regions=tuple(row["regions"]),
        services=tuple(row["services"]),
        event_types=tuple(row["event_types"]),
        active=row["active"],
    )


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(
            "the webhook URL is not usable",
            errors=[{"field": "url", "reason": "an absolute http:// or https:// URL with a host"}],
        )
