"""The applicant consumer plans a batch's submissions and decisions of different applications
together (`NotifyTogether`); what it would plan differently from one by one is left to the
one-by-one path after it: a submission with an event kept for it, a decision whose recipient is
not registered yet (kept), one whose result the office keeps. The notifications come out as one
by one, and the batch again is a duplicate."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from services.notification.bootstrap import consumers
from services.notification.service import NotificationService
from shared.contracts.event import DomainEvent
from shared.messaging.consumer import Outcome
from shared.messaging.envelope import Envelope
from shared.messaging.raw import RawRecord

from .events import TSA, TSA_EDITION, decided, submitted
from .helpers import notify, states


def record(event: DomainEvent, offset: int) -> RawRecord:
    source = "/qyzmet/decision" if "decision" in event.ce_type() else "/qyzmet/intake"
    envelope = Envelope(str(uuid.uuid4()), source, event.ce_type(), event.model_dump(mode="json"))
    return RawRecord("applications.v1", 0, offset, None, envelope.body(), envelope.to_headers())


async def test_a_batch_plans_as_one_by_one(
    service: NotificationService, pool: asyncpg.Pool, notification_schema: str
) -> None:
    fresh = submitted(service_id=TSA, edition_id=TSA_EDITION, region="akmola", office_id="akmola-1")
    registered = submitted(service_id=TSA, edition_id=TSA_EDITION, region="akmola", office_id="akmola-1")
    unknown = submitted(service_id=TSA, edition_id=TSA_EDITION, region="akmola", office_id="akmola-1")
    waited = submitted(service_id=TSA, edition_id=TSA_EDITION, region="akmola", office_id="akmola-1")
    kept_in_person = submitted()  # a pension: the result is kept at the office
    await notify(service, registered)
    await notify(service, kept_in_person)
    await notify(service, decided(waited, "refused"))  # kept until its registration arrives
    batch = [
        fresh,
        decided(registered, "refused"),
        decided(unknown, "refused"),
        waited,
        decided(kept_in_person, "refused"),
    ]
    applicants, _ = consumers(service, None)  # type: ignore[arg-type]
    assert applicants.batch is not None
    written: list[int] = []
    write = applicants.batch.write

    async def counted(conn: asyncpg.Connection, plans: Sequence[Any]) -> None:
        written.append(len(plans))
        await write(conn, plans)

    applicants.batch.write = counted  # type: ignore[method-assign]
    records = [record(e, i) for i, e in enumerate(batch)]
    assert await applicants.process_batch(records) == [Outcome.HANDLED] * len(batch)
    assert written == [2]  # the fresh submission and the registered application's decision
    assert await applicants.process_batch(records) == [Outcome.DUPLICATE] * len(batch)

    assert set(await states(service, fresh.application_id)) == {
        ("talon_issued", "email"),
        ("talon_issued", "sms"),
    }
    assert ("decision_made", "email") in await states(service, registered.application_id)
    assert await states(service, unknown.application_id) == {}
    assert ("decision_made", "email") in await states(service, waited.application_id)
    assert ("decision_made", "pickup") in await states(service, kept_in_person.application_id)
    async with pool.acquire() as conn:
        kept = await conn.fetchval(f"SELECT count(*) FROM {notification_schema}.deferred_triggers")
        keeping = await conn.fetchval(f"SELECT count(*) FROM {notification_schema}.result_keeping")
        decided_marks = await conn.fetchval(
            f"SELECT count(*) FROM {notification_schema}.recipients WHERE decided_at IS NOT NULL"
        )
        events = await conn.fetchval(
            f"SELECT count(*) FROM {notification_schema}.events"
            " WHERE event_type = 'notification.state_changed'"
        )
        queued = await conn.fetchval(f"SELECT count(*) FROM {notification_schema}.notifications")
    assert (kept, keeping, decided_marks) == (1, 1, 3)  # the unknown decision waits; the pension is kept
    assert events == queued  # every queued notification's first state, once


def test_the_recipients_columns_are_the_recipient_fields_in_order() -> None:
    """The batch's registration binds one array per field, in the columns' order."""
    from dataclasses import fields

    from services.notification.adapters.notification_rows import RECIPIENT_COLUMNS, Recipient

    assert [c.strip() for c in RECIPIENT_COLUMNS.split(",")] == [f.name for f in fields(Recipient)]
