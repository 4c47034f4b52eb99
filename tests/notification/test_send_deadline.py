"""Every send has an overall deadline shorter than the lease: a webhook receiver that trickles
its answer a byte at a time (which no per-read timeout notices) is cut off and retried; an
answer whose body trickles is DELIVERED on its status (the body is never read). A worker whose
lease ran out before it sent never sends: the worker that took over sends once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

from services.notification.domain.commands import FanOut, Subscribe
from services.notification.service import NotificationService
from services.notification.service_layer.dispatch import new_lease, system_meta
from shared.infra.procs import free_port

from .conftest import FakeClock, Mailbox, settings_for
from .events import DECIDED, decided, submitted
from .helpers import notify, states
from .receiver import Receiver, running
from .test_webhooks import HOOK_SECRET


class Trickler:
    """A raw HTTP server: the first `slow` answers trickle one byte every `pace_s` (the status
    line and headers when `what == "headers"`, the body after complete headers when `"body"`);
    later ones answer 200 at once."""

    def __init__(self, what: str, slow: int = 1, pace_s: float = 0.2) -> None:
        self.what = what
        self.slow = slow
        self.pace_s = pace_s
        self.requests = 0
        self.port = free_port()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            length = next(int(x.split(b":", 1)[1]) for x in lines if x.lower().startswith(b"content-length"))
            await reader.readexactly(length)
            self.requests += 1
            if self.requests > self.slow:
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                await writer.drain()
                return
            if self.what == "headers":
                writer.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            else:
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            while True:  # one byte at a time, for ever
                await writer.drain()
                await asyncio.sleep(self.pace_s)
                writer.write(b"a")
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Trickler]:
        server = await asyncio.start_server(self.handle, "127.0.0.1", self.port)
        try:
            yield self
        finally:
            server.close()

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


async def fan_out(service: NotificationService) -> None:
    event = decided(submitted())
    command = FanOut(
        event, str(uuid.uuid4()), "/qyzmet/decision", DECIDED, f"case-{event.application_id}", "astana"
    )
    await service.execute(command, system_meta("test"))


async def delivery_log(service: NotificationService) -> list[dict]:  # type: ignore[type-arg]
    [sub] = await service.subscriptions()
    log = await service.delivery_log(sub["subscription_id"], None, 10)
    assert log is not None
    return log


async def test_a_trickling_receiver_is_cut_off_by_the_deadline_and_retried(
    make_service: Callable[..., NotificationService], smtp: tuple[Mailbox, int], clock: FakeClock
) -> None:
    # lease 2 s -> a send has 1 s; httpx's per-read timeout (3 s) never trips on a byte each 0.2 s
    service = make_service(settings=settings_for(smtp[1], lease_s=2.0, webhook_timeout_s=3.0))
    async with Trickler("headers").running() as receiver:
        await service.execute(Subscribe(receiver.url(), HOOK_SECRET), system_meta("admin"))
        await fan_out(service)
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await service.dispatcher.deliver_webhooks("w1") == 1
        assert loop.time() - started < 2.0, "the send outlived its deadline"
        [entry] = await delivery_log(service)
        assert entry["state"] == "ON_DELIVERY"
        assert "no complete answer within 1 s" in entry["attempts"][0]["reason"]
        clock.now += timedelta(seconds=61)
        assert await service.dispatcher.deliver_webhooks("w1") == 1
        [entry] = await delivery_log(service)
        assert entry["state"] == "DELIVERED" and receiver.requests == 2


async def test_a_trickling_body_is_not_read_the_status_decides(
    make_service: Callable[..., NotificationService], smtp: tuple[Mailbox, int]
) -> None:
    service = make_service(settings=settings_for(smtp[1], lease_s=4.0))
    async with Trickler("body").running() as receiver:
        await service.execute(Subscribe(receiver.url(), HOOK_SECRET), system_meta("admin"))
        await fan_out(service)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await service.dispatcher.deliver_webhooks("w1")
        assert loop.time() - started < 1.5
        [entry] = await delivery_log(service)
        assert entry["state"] == "DELIVERED"


async def test_a_lease_that_expired_before_the_send_never_sends(
    make_service: Callable[..., NotificationService], smtp: tuple[Mailbox, int], clock: FakeClock
) -> None:
    mailbox, port = smtp
    service = make_service(settings=settings_for(port, lease_s=30.0))
    async with running(Receiver(HOOK_SECRET)) as receiver:
        await service.execute(Subscribe(receiver.url("/all"), HOOK_SECRET), system_meta("admin"))
        await fan_out(service)
        app = submitted(language="ru")
        await notify(service, app)
        first = service.dispatcher
        stale = new_lease()
        [hook] = await first.lease_webhooks(stale)
        leased = await first.lease_notifications(stale)
        assert {n.channel for n in leased} == {"email", "sms"}
        clock.now += timedelta(seconds=31)  # worker 1 stalled past its lease: worker 2 takes over
        other = make_service(settings=settings_for(port, lease_s=30.0)).dispatcher
        assert await other.deliver_webhooks("w2") == 1
        assert await other.deliver_due("w2") == 2
        await first.post(hook, "w1", stale)  # worker 1 resumes: its lease is gone
        for n in leased:
            await first.deliver(n, "w1", stale)
    assert len(receiver.received) == 1
    assert len(mailbox.messages) == 1
    [entry] = await delivery_log(service)
    assert entry["state"] == "DELIVERED" and len(entry["attempts"]) == 1
    found = await states(service, app.application_id)
    assert found[("talon_issued", "email")]["state"] == "DELIVERED"
    assert len(found[("talon_issued", "email")]["history"]) == 2
