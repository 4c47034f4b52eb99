"""The webhook consumer takes a batch's decision events together (`FanOutTogether`): every event
kept, one delivery per subscription that wants it (region, service, event type), in one
statement; the same batch delivered again is a duplicate and queues nothing more."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from services.notification.bootstrap import consumers
from services.notification.domain.commands import Subscribe
from services.notification.service import NotificationService
from services.notification.service_layer.dispatch import system_meta
from shared.contracts.event import DomainEvent
from shared.messaging.consumer import Outcome
from shared.messaging.envelope import Envelope
from shared.messaging.raw import RawRecord

from .events import DECIDED, decided, submitted

HOOK_SECRET = "whsec-astana-tson-0123456789"


def record(event: DomainEvent, offset: int, region: str) -> RawRecord:
    envelope = Envelope(
        str(uuid.uuid4()), "/qyzmet/decision", event.ce_type(), event.model_dump(mode="json"),
        DECIDED, "case-x", region=region,
    )  # fmt: skip
    return RawRecord("decisions.v1", 0, offset, None, envelope.body(), envelope.to_headers())


async def test_a_batch_of_decisions_is_kept_and_fanned_out_once(
    service: NotificationService, pool: asyncpg.Pool, notification_schema: str
) -> None:
    meta = system_meta("admin")
    await service.execute(Subscribe("https://tson.example.kz/astana", HOOK_SECRET, ("astana",)), meta)
    await service.execute(Subscribe("https://tson.example.kz/all", HOOK_SECRET), meta)
    await service.execute(  # wants other events only
        Subscribe("https://tson.example.kz/extended", HOOK_SECRET, event_types=("decision.term_extended",)),
        meta,
    )
    regions = ("astana", "akmola", "astana")
    records = [
        record(decided(submitted(region=region), "refused"), i, region) for i, region in enumerate(regions)
    ]
    _, webhooks = consumers(service, None)  # type: ignore[arg-type]
    assert webhooks.batch is not None
    written: list[int] = []
    write = webhooks.batch.write

    async def counted(conn: asyncpg.Connection, plans: Sequence[Any]) -> None:
        written.append(len(plans))
        await write(conn, plans)

    webhooks.batch.write = counted  # type: ignore[method-assign]
    assert await webhooks.process_batch(records) == [Outcome.HANDLED] * 3
    assert written == [3]
    assert await webhooks.process_batch(records) == [Outcome.DUPLICATE] * 3
    async with pool.acquire() as conn:
        kept = await conn.fetchval(f"SELECT count(*) FROM {notification_schema}.webhook_events")
        queued = await conn.fetch(
            f"SELECT s.url, count(*) AS n FROM {notification_schema}.webhook_deliveries d"
            f" JOIN {notification_schema}.webhook_subscriptions s USING (subscription_id) GROUP BY s.url"
        )
    assert kept == 3
    assert {r["url"]: r["n"] for r in queued} == {
        "https://tson.example.kz/astana": 2,
        "https://tson.example.kz/all": 3,
    }
