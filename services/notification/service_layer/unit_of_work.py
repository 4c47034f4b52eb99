"""The notification unit of work: notifications, webhooks and results waiting to be collected,
with the service's events and audit records, in one transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from services.notification.adapters.keeping_store import KeepingStore
from services.notification.adapters.repository import NotificationStore
from services.notification.adapters.webhook_store import WebhookStore
from shared.audit import AuditEntry
from shared.contracts.event import DomainEvent
from shared.eventstore import ANY_VERSION
from shared.service_layer import Meta, PgUnitOfWork
from shared.service_layer.streams import new_event


class NotificationUnit(PgUnitOfWork):
    notifications: NotificationStore
    webhooks: WebhookStore
    keeping: KeepingStore

    def _bind(self, conn: asyncpg.Connection) -> None:
        super()._bind(conn)
        self.notifications = NotificationStore(self.schema, conn)
        self.webhooks = WebhookStore(self.schema, conn)
        self.keeping = KeepingStore(self.schema, conn)

    async def record(
        self, stream_id: str, events: Sequence[DomainEvent], meta: Meta, **extra: str | None
    ) -> None:
        """Append the service's own events (published on notifications.v1 by the relay)."""
        metadata = meta.event_metadata(
            office=extra.get("office") or meta.actor.office, region=extra.get("region")
        )
        await self.events.append(stream_id, [new_event(e, metadata) for e in events], ANY_VERSION)

    async def audit_action(self, meta: Meta, action: str, subject: str, details: Mapping[str, Any]) -> None:
        await self.audit.append(AuditEntry.by(meta.actor, action, subject, details, meta.correlation_id))
