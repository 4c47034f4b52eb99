"""Delivery states as events: every state a notification enters is a `NotificationStateChanged`
on its own stream (`notification-<id>`), published on notifications.v1 by the relay."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from services.notification.domain.delivery import Transition
from services.notification.service_layer.unit_of_work import NotificationUnit
from shared.contracts.notifications import NotificationStateChanged
from shared.service_layer import Meta


def stream_of(notification_id: object) -> str:
    return f"notification-{notification_id}"


async def publish_states(
    uow: NotificationUnit,
    rows: Iterable[Mapping[str, Any]],
    now: datetime,
    meta: Meta,
) -> None:
    """One event per row (a notification as it is now); its region and office travel as headers.
    One statement for all the rows (each notification has its own stream)."""
    await uow.record_each(state_changes(rows, now), meta)


def state_changes(
    rows: Iterable[Mapping[str, Any]], now: datetime
) -> list[tuple[str, NotificationStateChanged, str | None, str | None]]:
    """(stream, event, office, region) of each row's `NotificationStateChanged`."""
    return [
        (
            stream_of(row["notification_id"]),
            NotificationStateChanged(
                notification_id=str(row["notification_id"]),
                application_id=row["application_id"],
                complaint_id=row["complaint_id"],
                kind=row["kind"],
                channel=row["channel"],
                language=row["language"],
                state=row["state"],
                reason=row["reason"],
                attempt=row["attempt"],
                office_id=row["office_id"],
                trigger_event_id=row["trigger_event_id"],
                changed_at=now,
            ),
            row["office_id"],
            row["region"],
        )
        for row in rows
    ]


async def stop_pending(
    uow: NotificationUnit, application_id: str, reason: str, now: datetime, meta: Meta
) -> int:
    """DELIVERY_STOPPED for every notification of the application still on delivery."""
    changed = []
    for notification_id, attempt in await uow.notifications.pending_of(application_id):
        row = await uow.notifications.transition(
            notification_id, Transition("DELIVERY_STOPPED", reason, attempt, None), now, worker=None
        )
        if row is not None:
            changed.append(row)
    await publish_states(uow, changed, now, meta)
    return len(changed)
