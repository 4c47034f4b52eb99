"""ЦОН webhooks against a real HTTP server: signed deliveries the receiver verifies; a 500 is
retried then delivered, a 400 is not retried, a bad URL ends NOT_DELIVERED with the reason;
filters by region; the delivery log; redelivery from a given time; no secret in any answer and
no personal data in any body."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx

from services.notification.domain.commands import FanOut, Subscribe
from services.notification.entrypoints.api import create_app
from services.notification.service import NotificationService
from services.notification.service_layer.dispatch import system_meta
from shared.auth.roles import Role
from shared.auth.tokens import issue_token
from shared.infra.procs import free_port

from .conftest import FakeClock, settings_for
from .events import DECIDED, decided, submitted
from .receiver import Receiver, running

SECRET = "test-secret-notification-0123456789"
HOOK_SECRET = "whsec-astana-tson-0123456789"


def token(role: Role, office: str = "astana-tson-1", subject: str = "someone") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, subject=subject, role=role, office=office)}"}


ADMIN = token(Role.ADMIN, "ministry", "admin-1")


async def subscribe(http: httpx.AsyncClient, url: str, **filters: Any) -> str:
    r = await http.post("/v1/webhooks", json={"url": url, "secret": HOOK_SECRET, **filters}, headers=ADMIN)
    assert r.status_code == 201, r.text
    assert "secret" not in r.json()
    return str(r.json()["subscription_id"])


async def fan_out(service: NotificationService, region: str = "astana") -> str:
    event = decided(submitted(region=region), "refused")
    event_id = str(uuid.uuid4())
    command = FanOut(event, event_id, "/qyzmet/decision", DECIDED, f"case-{event.application_id}", region)
    await service.execute(command, system_meta("test"))
    return event_id


async def test_signed_deliveries_retries_refusals_and_the_log(
    service: NotificationService, clock: FakeClock
) -> None:
    app = create_app(service, token_secret=SECRET)
    dead = f"http://127.0.0.1:{free_port()}/hook"
    async with (
        running(Receiver(HOOK_SECRET, answers={"/flaky": [500], "/bad": [400, 400]})) as receiver,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://n") as http,
    ):
        ok = await subscribe(http, receiver.url("/ok"), regions=["astana"])
        other = await subscribe(http, receiver.url("/akmola"), regions=["akmola"])
        flaky = await subscribe(http, receiver.url("/flaky"))
        bad = await subscribe(http, receiver.url("/bad"), services=["basic_state_pension_payment"])
        unreachable = await subscribe(http, dead)
        await fan_out(service)
        await fan_out(service)  # a second decision

        for _ in range(12):
            await service.dispatcher.deliver_webhooks("w1")
            clock.now += timedelta(seconds=200)

        assert all(r.signature_ok for r in receiver.received)
        assert len(receiver.at("/ok")) == 2 and not receiver.at("/akmola")
        first = receiver.at("/ok")[0].body
        assert first["type"] == "kz.qyzmet.decision.made.v1" and first["region"] == "astana"
        assert (
            first["data"]["outcome"] == "refused"
            and first["data"]["grounds"][0]["id"] == "incomplete_documents"
        )
        assert "evaluation" not in first["data"]  # the decision's inputs stay out (allow-list)
        assert "Айгүл" not in str(first)

        flaky_calls = receiver.at("/flaky")
        assert [r.status for r in flaky_calls][:2] == [500, 200]
        assert len({r.delivery_id for r in flaky_calls}) == 2  # two events, each retried under its own id
        assert len(receiver.at("/bad")) == 2  # one per event, never retried

        log = (await http.get(f"/v1/webhooks/{flaky}/deliveries", headers=ADMIN)).json()
        # whichever of the two events got the 500 (sends of a batch run concurrently)
        retried = next(d for d in log if d["attempts"][0]["status_code"] == 500)
        assert retried["state"] == "DELIVERED"
        assert [(a["status_code"], a["outcome"]) for a in retried["attempts"]] == [
            (500, "retry"),
            (200, "delivered"),
        ]
        bad_log = (await http.get(f"/v1/webhooks/{bad}/deliveries", headers=ADMIN)).json()
        assert {d["state"] for d in bad_log} == {"NOT_DELIVERED"}
        assert bad_log[0]["reason"].startswith("http 400") and len(bad_log[0]["attempts"]) == 1
        dead_log = (await http.get(f"/v1/webhooks/{unreachable}/deliveries", headers=ADMIN)).json()
        assert {d["state"] for d in dead_log} == {"NOT_DELIVERED"}
        assert "gave up after" in dead_log[0]["reason"] and "ConnectError" in dead_log[0]["reason"]
        assert (await http.get(f"/v1/webhooks/{other}/deliveries", headers=ADMIN)).json() == []

        # Redelivery from a given time: the subscriber asks for everything since the decision.
        r = await http.post(
            f"/v1/webhooks/{ok}/redeliver", json={"since": DECIDED.isoformat()}, headers=ADMIN
        )
        assert r.status_code == 200 and r.json()["queued"] == 2
        await service.dispatcher.deliver_webhooks("w1")
        assert len(receiver.at("/ok")) == 4

        listing = (await http.get("/v1/webhooks", headers=ADMIN)).text
        assert HOOK_SECRET not in listing and "secret" not in listing


async def test_subscriptions_are_the_administrators_and_checked(service: NotificationService) -> None:
    app = create_app(service, token_secret=SECRET)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://n") as http:
        body = {"url": "http://tson.example.kz/hook", "secret": HOOK_SECRET}
        r = await http.post("/v1/webhooks", json=body, headers=token(Role.TSON))
        assert r.status_code == 403
        r = await http.post("/v1/webhooks", json={**body, "url": "ftp://x"}, headers=ADMIN)
        assert r.status_code == 422 and "url" in r.text
        r = await http.post("/v1/webhooks", json={**body, "secret": "short"}, headers=ADMIN)
        assert r.status_code == 422 and "secret" in r.text
        r = await http.post(
            "/v1/webhooks", json={**body, "event_types": ["application.submitted"]}, headers=ADMIN
        )
        assert r.status_code == 422 and "event_types" in r.text
        r = await http.post(
            f"/v1/webhooks/{uuid.uuid4()}/redeliver", json={"since": DECIDED.isoformat()}, headers=ADMIN
        )
        assert r.status_code == 404
        r = await http.delete(f"/v1/webhooks/{uuid.uuid4()}", headers=ADMIN)
        assert r.status_code == 404


async def test_a_slow_subscriber_times_out_and_is_retried(
    make_service: Callable[..., NotificationService], smtp: tuple[Any, int], clock: FakeClock
) -> None:
    service = make_service(settings=settings_for(smtp[1], webhook_timeout_s=0.3, retry_initial_s=10))
    async with running(Receiver(HOOK_SECRET, delay_s=1.0)) as receiver:
        sid = await service.execute(Subscribe(receiver.url("/slow"), HOOK_SECRET), system_meta("admin"))
        event_id = await fan_out(service)
        await service.dispatcher.deliver_webhooks("w1")
        [entry] = await service.delivery_log(sid["subscription_id"], None, 10) or []
        assert entry["event_id"] == event_id
        assert (entry["state"], entry["reason"], entry["attempt"]) == ("ON_DELIVERY", "http: timed out", 1)
        receiver.delay_s = 0
        clock.now += timedelta(seconds=11)
        await service.dispatcher.deliver_webhooks("w1")
        [entry] = await service.delivery_log(sid["subscription_id"], None, 10) or []
        assert entry["state"] == "DELIVERED"
        assert [a["outcome"] for a in entry["attempts"]] == ["retry", "delivered"]


async def test_a_late_subscriber_asks_for_the_decisions_since_a_time(
    service: NotificationService, clock: FakeClock
) -> None:
    app = create_app(service, token_secret=SECRET)
    before = await fan_out(service)  # nobody subscribed yet
    async with (
        running(Receiver(HOOK_SECRET)) as receiver,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://n") as http,
    ):
        sid = await subscribe(http, receiver.url("/late"))
        await service.dispatcher.deliver_webhooks("w1")
        assert receiver.received == []
        since = (DECIDED - timedelta(days=1)).isoformat()
        r = await http.post(f"/v1/webhooks/{sid}/redeliver", json={"since": since}, headers=ADMIN)
        assert r.json()["queued"] == 1
        await service.dispatcher.deliver_webhooks("w1")
        [hook] = receiver.received
        assert hook.body["id"] == before and hook.signature_ok


async def test_a_cancelled_subscription_gets_nothing_more(service: NotificationService) -> None:
    app = create_app(service, token_secret=SECRET)
    async with (
        running(Receiver(HOOK_SECRET)) as receiver,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://n") as http,
    ):
        sid = await subscribe(http, receiver.url("/gone"))
        await fan_out(service)
        assert (await http.delete(f"/v1/webhooks/{sid}", headers=ADMIN)).status_code == 204
        await fan_out(service)
        await service.dispatcher.deliver_webhooks("w1")
        assert receiver.received == []
        [entry] = (await http.get(f"/v1/webhooks/{sid}/deliveries", headers=ADMIN)).json()
        assert (entry["state"], entry["reason"]) == ("DELIVERY_STOPPED", "subscription cancelled")
        listed = (await http.get("/v1/webhooks", headers=ADMIN)).json()
        assert [s["active"] for s in listed] == [False]
