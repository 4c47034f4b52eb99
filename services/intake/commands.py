"""Kafka intake: `SubmitApplication` commands from office systems on `intake.submissions.v1`.

The same use case as the HTTP API runs inside the consumer's inbox transaction. A business
rejection (missing documents, invalid ИИН, ...) is an outcome (`ApplicationRejectedAtIntake` on
`applications.v1`); a command that cannot be processed at all (undecodable, unknown type,
schema-invalid, no receiving officer, key reused with another body) is poison: dead-lettered
with the reason.
"""

from __future__ import annotations

import asyncpg
from aiokafka import AIOKafkaProducer

from services.intake.service import Actor, IdempotencyConflict, IntakeService
from shared.contracts.applications import INTAKE_COMMANDS, SubmitApplication
from shared.contracts.event import DomainEvent
from shared.messaging.consumer import EventConsumer, Handler, RetryPolicy
from shared.messaging.envelope import Envelope, PoisonMessage

CONSUMER_NAME = "intake.submissions"
OFFICE_SYSTEM_ROLE = "office_system"


def submission_handler(service: IntakeService) -> Handler:
    async def handle(conn: asyncpg.Connection, envelope: Envelope, event: DomainEvent) -> None:
        if not isinstance(event, SubmitApplication):
            raise PoisonMessage(f"not a submission command: {envelope.type}")
        if not envelope.actor:
            raise PoisonMessage("missing header ce_actor: the receiving officer must be named")
        if envelope.office is None:
            raise PoisonMessage("missing header ce_office: the sending office must be named")
        if envelope.office != event.office_id:
            raise PoisonMessage("header ce_office differs from the command's office_id")
        actor = Actor(subject=envelope.actor, role=OFFICE_SYSTEM_ROLE, office=event.office_id)
        try:
            await service.submit(
                conn,
                event,
                actor,
                correlation_id=envelope.correlation_id or envelope.id,
                causation_id=envelope.id,
            )
        except IdempotencyConflict as exc:
            raise PoisonMessage(f"idempotency conflict: {exc}") from exc

    return handle


def submission_consumer(
    pool: asyncpg.Pool,
    schema: str,
    service: IntakeService,
    producer: AIOKafkaProducer,
    retry: RetryPolicy | None = None,
) -> EventConsumer:
    return EventConsumer(
        CONSUMER_NAME, pool, schema, INTAKE_COMMANDS, submission_handler(service), producer, retry
    )
