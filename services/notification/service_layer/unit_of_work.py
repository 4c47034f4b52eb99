"""The notification unit of work: notifications, webhooks and results waiting to be collected,
with the service's events and audit records, in one transaction.

Joined to a consumer's inbox transaction, the unit opens no savepoint: whatever fails in it rolls
the consumer's whole transaction back (the consumer then handles its records one by one, each in
a fresh transaction), so nothing ever goes on after a rollback to the savepoint, and a SAVEPOINT
and a RELEASE were two round trips per event for nothing (issue 14).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Self

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

    async def __aenter__(self) -> Self:
        if self._joined is None:
            return await super().__aenter__()
        if not self._joined.is_in_transaction():
            raise RuntimeError("a joined unit of work needs its caller's open transaction")
        self._actions = []
        self._conn = self._joined
        self._bind(self._joined)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._joined is None:
            await super().__aexit__(kind, error, tb)
            return
        self._conn = None
        actions, self._actions = self._actions, []
        if error is not None or not actions:
            return  # the caller rolls its transaction back and redelivers
        if self._pass_on is None:
            raise RuntimeError("a joined unit of work has after-commit actions but nobody to run them")
        for action in actions:
            self._pass_on(action)

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

    async def record_each(
        self, appended: Sequence[tuple[str, DomainEvent, str | None, str | None]], meta: Meta
    ) -> None:
        """Append one event to each of several streams (stream, event, office, region) in one
        statement. No savepoint: a refusal aborts the transaction, which is then run again whole
        (the bus's retry, or the consumer's redelivery)."""
        if len(appended) == 1:
            stream_id, event, office, region = appended[0]
            await self.record(stream_id, [event], meta, office=office, region=region)
        elif appended:
            batch = [
                (
                    stream_id,
                    [
                        new_event(
                            event, meta.event_metadata(office=office or meta.actor.office, region=region)
                        )
                    ],
                )
                for stream_id, event, office, region in appended
            ]
            await self._store.append_batch_heads(self.conn, batch)

    async def audit_action(self, meta: Meta, action: str, subject: str, details: Mapping[str, Any]) -> None:
        await self.audit.append(AuditEntry.by(meta.actor, action, subject, details, meta.correlation_id))
