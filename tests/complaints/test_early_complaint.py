"""A complaint command that overtakes its application's decision on Kafka (the topics are not
ordered) waits for it instead of being dead-lettered: it is registered once the decision
arrives, and dead-lettered with the reason only when the retry budget is spent."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import asyncpg
import pytest

from services.complaints.entrypoints.kafka import submission_consumer
from services.complaints.service import ComplaintsService
from shared.contracts.complaints import FileComplaint
from shared.contracts.event import DomainEvent
from shared.messaging.consumer import Outcome, Redelivery
from shared.messaging.envelope import Envelope
from shared.messaging.raw import RawRecord
from tests.complaints.conftest import (
    DEPT,
    REGISTERED_AT,
    Clock,
    complaint_body,
    decided,
    seed,
    submitted,
)

QUICK = Redelivery(initial_delay=0.02, max_delay=0.1, retry_later_budget_s=10.0)


class _Producer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, bytes]]] = []

    async def send_and_wait(self, topic: str, **kwargs: object) -> None:
        headers = kwargs.get("headers") or []
        self.sent.append((topic, dict(headers)))  # type: ignore[arg-type]


def _command(event: DomainEvent, offset: int = 0) -> RawRecord:
    envelope = Envelope(
        id=str(uuid.uuid4()), source="/office-systems/test", type=type(event).ce_type(),
        data=event.model_dump(mode="json"), actor="clerk.officer@" + DEPT, office=DEPT,
    )  # fmt: skip
    return RawRecord(
        "complaints.submissions.v1", 0, offset, DEPT.encode(), envelope.body(), envelope.to_headers()
    )


async def test_a_complaint_ahead_of_its_decision_is_registered_when_the_decision_arrives(
    pool: asyncpg.Pool, complaints_schema: str, service: ComplaintsService
) -> None:
    application = submitted()
    await seed(pool, complaints_schema, application)  # known, not decided yet
    producer = _Producer()
    consumer = submission_consumer(pool, complaints_schema, service, producer, QUICK)  # type: ignore[arg-type]
    command = FileComplaint.model_validate(complaint_body(application.application_id))
    waiting = asyncio.create_task(consumer.process(_command(command)))
    await asyncio.sleep(0.3)
    assert not waiting.done()  # retrying, not dead-lettered
    await seed(pool, complaints_schema, decided(application, REGISTERED_AT))
    assert await asyncio.wait_for(waiting, 10) is Outcome.HANDLED
    assert producer.sent == []
    async with pool.acquire() as conn:
        count = await conn.fetchval(f"SELECT count(*) FROM {complaints_schema}.complaints")
    assert count == 1


async def test_one_never_decided_is_dead_lettered_with_the_reason_once_the_budget_is_spent(
    pool: asyncpg.Pool, complaints_schema: str, service: ComplaintsService
) -> None:
    application = submitted()
    await seed(pool, complaints_schema, application)
    producer = _Producer()
    brief = Redelivery(initial_delay=0.02, max_delay=0.05, retry_later_budget_s=0.3)
    consumer = submission_consumer(pool, complaints_schema, service, producer, brief)  # type: ignore[arg-type]
    command = FileComplaint.model_validate(complaint_body(application.application_id))
    assert await consumer.process(_command(command)) is Outcome.DEAD_LETTERED
    [(topic, headers)] = producer.sent
    assert topic == "complaints.submissions.v1.dlq"
    reason = headers["dlq_reason"].decode()
    assert reason.startswith("gave up after") and "no decision has been made" in reason


pytestmark = pytest.mark.usefixtures("complaints_schema")


async def test_a_kafka_complaint_keeps_the_instant_the_office_received_it(
    pool: asyncpg.Pool, complaints_schema: str, service: ComplaintsService, clock: Clock
) -> None:
    application = submitted()
    await seed(pool, complaints_schema, application, decided(application, REGISTERED_AT - timedelta(days=1)))
    producer = _Producer()
    consumer = submission_consumer(pool, complaints_schema, service, producer, QUICK)  # type: ignore[arg-type]
    clock.advance(days=4)  # processed on Friday; received on Monday
    received = complaint_body(application.application_id, received_at=REGISTERED_AT.isoformat())
    assert await consumer.process(_command(FileComplaint.model_validate(received))) is Outcome.HANDLED
    future = complaint_body(
        application.application_id, received_at=(clock.now + timedelta(days=1)).isoformat()
    )
    assert await consumer.process(_command(FileComplaint.model_validate(future), 1)) is Outcome.DEAD_LETTERED
    assert "received_at" in producer.sent[0][1]["dlq_reason"].decode()
    async with pool.acquire() as conn:
        row = await conn.fetchrow(f"SELECT registered_at, review_due_on FROM {complaints_schema}.complaints")
    assert (row["registered_at"], str(row["review_due_on"])) == (REGISTERED_AT, "2025-03-18")
