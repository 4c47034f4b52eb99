"""The delivery loops: lease what is due in a short transaction of its own, deliver it outside
any transaction, and record the outcome as a command (its own unit of work), as the decision
service's timer scheduler does. A lease that expires (a worker died mid-send) lets another
worker take the delivery over; the recording is refused to a worker that lost its lease.

Several workers may run the loops at once (FOR UPDATE SKIP LOCKED).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import TypeVar

import asyncpg
import httpx
import structlog

from services.notification.adapters.channels import Channel, Outgoing
from services.notification.adapters.keeping_store import KeepingStore
from services.notification.adapters.notification_rows import Claimed, Leased
from services.notification.adapters.repository import NotificationStore
from services.notification.adapters.templates import TemplateProblem, Templates
from services.notification.adapters.webhook_hosts import RefusedHost, check_public
from services.notification.adapters.webhook_sender import WebhookAnswer, WebhookSender
from services.notification.adapters.webhook_store import DueDelivery, WebhookStore
from services.notification.domain import commands as c
from services.notification.domain.delivery import (
    Message,
    PermanentFailure,
    SendOutcome,
    Stopped,
    TemporaryFailure,
)
from services.notification.domain.signing import (
    DELIVERY_HEADER,
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    REDELIVERY_HEADER,
    signed_headers,
)
from services.notification.service_layer.delivery_rules import log_failures, new_lease, system_meta
from services.notification.service_layer.paper_rounds import PAPER_CHANNELS, deliver_paper
from services.notification.service_layer.unit_of_work import NotificationUnit
from services.notification.settings import NotificationSettings
from shared.service_layer import MessageBus, is_retryable

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]
T = TypeVar("T")
BUSY_PAUSE_S = 0.1
"""The delivery loop's pause after a round that found work but did not fill its batch."""


class Dispatcher:
    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        bus: MessageBus[NotificationUnit],
        templates: Templates,
        channels: Mapping[str, Channel],
        settings: NotificationSettings,
        clock: Clock,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.pool = pool
        self.schema = schema
        self.bus = bus
        self.templates = templates
        self.channels = dict(channels)
        self.settings = settings
        self.clock = clock
        self.webhooks = WebhookSender(settings.webhook_timeout_s, http)

    async def _lease(
        self, take: Callable[[asyncpg.Connection, datetime, datetime], Awaitable[list[T]]]
    ) -> list[T]:
        """Lease due rows (`take(conn, now, lease_until)`: one statement, a transaction of its own
        without BEGIN and COMMIT around it)."""
        now = self.clock()
        async with self.pool.acquire() as conn:
            return await take(conn, now, now + timedelta(seconds=self.settings.lease_s))

    async def _claim(
        self, claim: Callable[[asyncpg.Connection, datetime, datetime], Awaitable[bool]]
    ) -> bool:
        """Re-check the lease atomically just before a send, renewing it for the send's deadline."""
        now = self.clock()
        async with self.pool.acquire() as conn:
            return await claim(conn, now, now + timedelta(seconds=self.settings.lease_s))

    async def _bounded(self, sends: list[Awaitable[None]]) -> list[object]:
        """Run a batch's sends, at most `send_concurrency` at once; a send still waiting when its
        lease ran out is refused by its claim, never sent late."""
        gate = asyncio.Semaphore(self.settings.send_concurrency)

        async def one(send: Awaitable[None]) -> None:
            async with gate:
                await send

        return await asyncio.gather(*(one(s) for s in sends), return_exceptions=True)

    # ------------------------------------------------------------- notifications

    async def deliver_due(self, worker: str) -> int:
        lease = new_lease()
        leased = await self.lease_notifications(lease)
        paper = [n for n in leased if n.channel in PAPER_CHANNELS]
        sent = [n for n in leased if n.channel not in PAPER_CHANNELS]
        failures = await self._bounded([self.deliver(n, worker, lease) for n in sent])
        if paper:
            failures += await deliver_paper(
                paper, pool=self.pool, schema=self.schema, templates=self.templates, send=self._send,
                record=self.bus.handle, meta=system_meta(worker), lease=lease,
                lease_for=timedelta(seconds=self.settings.lease_s), now=self.clock(),
            )  # fmt: skip
        log_failures("delivery", failures)
        return len(leased)

    async def lease_notifications(self, lease: str) -> list[Leased]:
        batch = self.settings.dispatch_batch
        return await self._lease(
            lambda conn, now, until: NotificationStore(self.schema, conn).lease_due(now, lease, until, batch)
        )

    async def deliver(self, n: Leased, worker: str, lease: str) -> None:
        message: Message | None = None
        try:
            message = self.templates.render(n.kind, n.language, n.context)
        except TemplateProblem as exc:
            outcome: SendOutcome = Stopped(exc.reason)
        else:
            claimed = await self._claim_to_send(n, lease)
            if claimed is None:
                log.info("lease lost before sending", notification_id=str(n.notification_id), worker=worker)
                return
            outcome = await self._send(n, message, claimed)
        log.info(
            "delivery attempt",
            notification_id=str(n.notification_id),
            kind=n.kind,
            channel=n.channel,
            attempt=n.attempt + 1,
            outcome=type(outcome).__name__,
        )
        command = c.RecordAttempt(n.notification_id, lease, n.attempt + 1, n.give_up_at, outcome, message)
        await self.bus.handle(command, system_meta(worker))

    async def _claim_to_send(self, n: Leased, lease: str) -> Claimed | None:
        """The lease re-checked and renewed for the send's deadline, with the address it goes to."""
        now = self.clock()
        until = now + timedelta(seconds=self.settings.lease_s)
        async with self.pool.acquire() as conn:
            return await NotificationStore(self.schema, conn).claim_to_send(
                n.notification_id, lease, now, until
            )

    async def _send(self, n: Leased, message: Message, claimed: Claimed) -> SendOutcome:
        channel = self.channels.get(n.channel)
        if channel is None:
            return Stopped(f"channel {n.channel} is not configured")
        if not claimed.known:
            return Stopped("the recipient's contacts are gone")
        outgoing = Outgoing(str(n.notification_id), n.kind, n.language, claimed.address, message)
        deadline = self.settings.send_deadline_s
        try:
            async with asyncio.timeout(deadline):
                return await channel.send(outgoing)
        except TimeoutError:
            return TemporaryFailure(f"{n.channel}: no answer within {deadline:g} s")
        except Exception as exc:  # an adapter's bug must not lose the notification: retried
            return TemporaryFailure(f"{n.channel}: {type(exc).__name__}")

    # ------------------------------------------------------------- webhooks

    async def deliver_webhooks(self, worker: str) -> int:
        lease = new_lease()
        due = await self.lease_webhooks(lease)
        log_failures("webhook", await self._bounded([self.post(d, worker, lease) for d in due]))
        return len(due)

    async def lease_webhooks(self, lease: str) -> list[DueDelivery]:
        batch = self.settings.dispatch_batch
        return await self._lease(
            lambda conn, now, until: WebhookStore(self.schema, conn).lease_due(now, lease, until, batch)
        )

    async def post(self, d: DueDelivery, worker: str, lease: str) -> None:
        if not await self._claim(
            lambda conn, now, until: WebhookStore(self.schema, conn).claim(d.delivery_id, lease, now, until)
        ):
            log.info("lease lost before sending", delivery_id=str(d.delivery_id), worker=worker)
            return
        body = d.body.encode("utf-8")
        headers = {
            "Content-Type": "application/cloudevents+json; charset=utf-8",
            DELIVERY_HEADER: str(d.delivery_id),
            EVENT_ID_HEADER: d.event_id,
            EVENT_TYPE_HEADER: d.event_type,
            **signed_headers(d.secret, body),
        }
        if d.redelivery:
            headers[REDELIVERY_HEADER] = "true"
        deadline = self.settings.send_deadline_s
        try:
            async with asyncio.timeout(deadline):
                answer = await self._post_public(d.url, body, headers)
        except TimeoutError:
            answer = WebhookAnswer(TemporaryFailure(f"http: no complete answer within {deadline:g} s"))
        log.info(
            "webhook attempt",
            delivery_id=str(d.delivery_id),
            subscription_id=str(d.subscription_id),
            attempt=d.attempt + 1,
            status=answer.status,
            outcome=type(answer.outcome).__name__,
        )
        command = c.RecordWebhookAttempt(
            d.delivery_id, lease, d.attempt + 1, d.give_up_at, answer.outcome, answer.status
        )
        await self.bus.handle(command, system_meta(worker))

    async def _post_public(self, url: str, body: bytes, headers: dict[str, str]) -> WebhookAnswer:
        """POST unless the host now resolves to an address of our own network (checked again at
        send time: DNS may have changed since the subscription was registered)."""
        if not self.settings.webhook_allow_private:
            try:
                await check_public(url)
            except RefusedHost as refused:
                return WebhookAnswer(PermanentFailure(f"http: {refused} (refused)"))
        return await self.webhooks.post(url, body, headers)

    # ------------------------------------------------------------- results

    async def expire_keeping(self, worker: str) -> int:
        batch = self.settings.dispatch_batch
        lease = new_lease()
        due: list[str] = await self._lease(
            lambda conn, now, until: KeepingStore(self.schema, conn).lease_expired(now, lease, until, batch)
        )
        results: list[object] = []
        for application_id in due:
            try:
                await self.bus.handle(c.ExpireKeeping(application_id, lease), system_meta(worker))
            except Exception as exc:  # one broken record must not stop the loop (see _log_failures)
                results.append(exc)
        log_failures("keeping", results)
        return len(due)

    async def expire_deferred(self) -> int:
        """Forget events whose registration never arrived (they may hold personal data)."""
        cutoff = self.clock() - timedelta(seconds=self.settings.deferred_keep_s)
        async with self.pool.acquire() as conn:
            dropped = await NotificationStore(self.schema, conn).drop_deferred_before(cutoff)
        if dropped:
            log.info("kept events forgotten: their registration never arrived", count=dropped)
        return dropped

    # ------------------------------------------------------------- loop

    async def run(self, stop: asyncio.Event, worker: str) -> None:
        """Deliver until `stop`; a batch under way is finished first (nothing is cut mid-send).

        Under a steady trickle each round finds a few deliveries only: rather than lease again at
        once (a round of statements for one or two rows), a round that did not fill its batch
        waits `BUSY_PAUSE_S` (the dispatch interval if shorter), and the housekeeping (results
        kept too long, events whose registration never came) runs once per dispatch interval."""
        housekept = -math.inf
        while not stop.is_set():
            try:
                done = await self.deliver_due(worker) + await self.deliver_webhooks(worker)
                if time.monotonic() - housekept >= self.settings.dispatch_interval_s:
                    housekept = time.monotonic()
                    done += await self.expire_keeping(worker) + await self.expire_deferred()
            except Exception as exc:
                if not is_retryable(exc):
                    raise
                log.warning("dispatcher: database unavailable, retrying", error=type(exc).__name__)
                done = 0
            if done >= self.settings.dispatch_batch:
                continue
            pause = self.settings.dispatch_interval_s if done == 0 else BUSY_PAUSE_S
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), min(pause, self.settings.dispatch_interval_s))

    async def run_once(self, worker: str) -> int:
        return (
            await self.deliver_due(worker)
            + await self.deliver_webhooks(worker)
            + await self.expire_keeping(worker)
            + await self.expire_deferred()
        )
