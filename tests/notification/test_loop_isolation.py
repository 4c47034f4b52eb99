"""The delivery loop keeps going: a keeping record whose expiry cannot be recorded does not stop
the others (nor the dispatcher); a delivery of a deactivated subscription is never leased."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from services.notification.domain.commands import ExpireKeeping, Subscribe
from services.notification.service import NotificationService
from services.notification.service_layer.dispatch import system_meta

from .conftest import FakeClock
from .events import decided, submitted
from .helpers import notify
from .receiver import Receiver, running
from .test_send_deadline import fan_out
from .test_webhooks import HOOK_SECRET


async def test_an_expiry_that_cannot_be_recorded_does_not_stop_the_others(
    service: NotificationService, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, pool: asyncpg.Pool,
    notification_schema: str,
) -> None:  # fmt: skip
    broken, fine = submitted(), submitted()
    for app in (broken, fine):
        await notify(service, app)
        await notify(service, decided(app))
    handle = service.bus.handle

    async def failing_for_one(command: Any, meta: Any, **kwargs: Any) -> Any:
        if isinstance(command, ExpireKeeping) and command.application_id == broken.application_id:
            raise RuntimeError("a broken record")
        return await handle(command, meta, **kwargs)

    monkeypatch.setattr(service.bus, "handle", failing_for_one)
    clock.now += timedelta(days=70)
    assert await service.dispatcher.run_once("w1") >= 2  # no exception: the loop goes on
    async with pool.acquire() as conn:
        rows = await conn.fetch(f"SELECT application_id, state FROM {notification_schema}.result_keeping")
    found = {r["application_id"]: r["state"] for r in rows}
    assert found == {broken.application_id: "waiting", fine.application_id: "uncollected"}


async def test_a_delivery_of_a_deactivated_subscription_is_not_leased(
    make_service: Callable[..., NotificationService], pool: asyncpg.Pool, notification_schema: str
) -> None:
    service = make_service()
    async with running(Receiver(HOOK_SECRET)) as receiver:
        await service.execute(Subscribe(receiver.url("/all"), HOOK_SECRET), system_meta("admin"))
        await fan_out(service)
        async with pool.acquire() as conn:  # deactivated while its delivery is still queued
            await conn.execute(f"UPDATE {notification_schema}.webhook_subscriptions SET active = false")
        assert await service.dispatcher.deliver_webhooks("w1") == 0
    assert not receiver.received
