"""Driving the notification service in tests: hand it events as the consumer would, read back."""

from __future__ import annotations

import uuid
from typing import Any

from services.notification.domain.commands import NotifyOn
from services.notification.service import NotificationService
from services.notification.service_layer.dispatch import system_meta
from shared.contracts.event import DomainEvent


async def notify(service: NotificationService, event: DomainEvent, event_id: str | None = None) -> str:
    """Run NotifyOn as the consumer does (its own unit of work); return the trigger id."""
    trigger = event_id or str(uuid.uuid4())
    await service.execute(NotifyOn(event, trigger, getattr(event, "region", None)), system_meta("test"))
    return trigger


async def deliver(service: NotificationService, worker: str = "w1") -> int:
    return await service.dispatcher.deliver_due(worker)


async def states(service: NotificationService, application_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(kind, channel) -> the notification with its history."""
    rows = await service.notifications_of(application_id)
    return {(r["kind"], r["channel"]): r for r in rows}
