"""Redelivery on request: each event delivered already is sent again under a NEW delivery id
(receivers deduplicate on `X-Qyzmet-Delivery`, so the old id would be dropped) with
`X-Qyzmet-Redelivery: true` and a fresh attempt count; a delivery still under way (leased, or
waiting for its retry) is left alone, not reset; the log keeps both."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from services.notification.domain.commands import Redeliver, Subscribe
from services.notification.domain.signing import REDELIVERY_HEADER
from services.notification.service import NotificationService
from services.notification.service_layer.dispatch import new_lease, system_meta

from .conftest import FakeClock
from .events import DECIDED
from .receiver import Receiver, running
from .test_send_deadline import delivery_log
from .test_webhooks import HOOK_SECRET, fan_out


async def test_redelivery_uses_a_new_delivery_id_and_leaves_what_is_under_way(
    make_service: Callable[..., NotificationService], clock: FakeClock
) -> None:
    service = make_service()
    async with running(Receiver(HOOK_SECRET, answers={"/r": [200, 500]})) as receiver:
        sub = await service.execute(Subscribe(receiver.url("/r"), HOOK_SECRET), system_meta("admin"))
        sid = sub["subscription_id"]
        await fan_out(service)
        await fan_out(service)
        await service.dispatcher.deliver_webhooks("w1")  # one delivered, one 500 (waits for its retry)
        first = {r.body["id"]: r.delivery_id for r in receiver.received}
        log = await delivery_log(service)
        delivered = next(d for d in log if d["state"] == "DELIVERED")
        waiting = next(d for d in log if d["state"] == "ON_DELIVERY")
        clock.now += timedelta(minutes=5)
        [leased] = await service.dispatcher.lease_webhooks(new_lease())  # the retry is under way
        assert leased.delivery_id == waiting["delivery_id"]

        queued = await service.execute(Redeliver(sid, DECIDED - timedelta(days=1)), system_meta("admin"))
        assert queued == 1  # the delivered one; the one under way is not reset
        log = await delivery_log(service)
        assert len(log) == 3
        still = next(d for d in log if d["delivery_id"] == waiting["delivery_id"])
        assert (still["state"], still["attempt"]) == ("ON_DELIVERY", 1)
        again = next(
            d for d in log if d["delivery_id"] not in (delivered["delivery_id"], waiting["delivery_id"])
        )
        assert (again["event_id"], again["attempt"], again["attempts"]) == (delivered["event_id"], 0, [])

        receiver.received.clear()
        await service.dispatcher.deliver_webhooks("w1")
        [hook] = receiver.received
        assert hook.body["id"] == delivered["event_id"]
        assert hook.delivery_id == str(again["delivery_id"]) != first[delivered["event_id"]]
        assert hook.headers.get(REDELIVERY_HEADER) == "true"
        log = await delivery_log(service)
        assert next(d for d in log if d["delivery_id"] == delivered["delivery_id"])["state"] == "DELIVERED"
