"""A round's paper deliveries (pickup, post) are claimed in one statement and recorded in one
transaction (`RecordAttempts`); if that transaction fails, each is recorded on its own, so one
broken row does not hold up the others."""

from __future__ import annotations

from typing import Any

import pytest

from services.notification.domain import commands as c
from services.notification.service import NotificationService

from .events import decided, submitted
from .helpers import deliver, notify, states


async def _decided_three(service: NotificationService) -> list[str]:
    apps = [submitted() for _ in range(3)]
    for app in apps:
        await notify(service, app)
        await notify(service, decided(app, "refused"))
    return [app.application_id for app in apps]


async def test_a_rounds_pickup_notices_are_recorded_together(
    service: NotificationService, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await _decided_three(service)
    handled: list[object] = []
    handle = service.bus.handle

    async def noted(command: object, meta: Any, **kwargs: Any) -> Any:
        handled.append(command)
        return await handle(command, meta, **kwargs)

    monkeypatch.setattr(service.bus, "handle", noted)
    await deliver(service)
    [together] = [h for h in handled if isinstance(h, c.RecordAttempts)]
    assert len(together.attempts) == 3
    assert not any(isinstance(h, c.RecordAttempt) and h in together.attempts for h in handled)
    for application_id in ids:
        found = await states(service, application_id)
        assert found[("decision_made", "pickup")]["state"] == "DELIVERED"
        assert [h["state"] for h in found[("decision_made", "pickup")]["history"]] == [
            "ON_DELIVERY",
            "DELIVERED",
        ]


async def test_a_round_that_cannot_be_recorded_together_is_recorded_one_by_one(
    service: NotificationService, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await _decided_three(service)
    handle = service.bus.handle

    async def refusing(command: object, meta: Any, **kwargs: Any) -> Any:
        if isinstance(command, c.RecordAttempts):
            raise ValueError("a broken row")
        return await handle(command, meta, **kwargs)

    monkeypatch.setattr(service.bus, "handle", refusing)
    await deliver(service)
    for application_id in ids:
        found = await states(service, application_id)
        assert found[("decision_made", "pickup")]["state"] == "DELIVERED"
