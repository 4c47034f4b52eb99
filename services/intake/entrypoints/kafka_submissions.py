"""Kafka intake: `SubmitApplication` commands from office systems on `intake.submissions.v1`.

The same bus as the HTTP API runs the command, inside the consumer's inbox transaction. A
business rejection (missing documents, invalid ИИН, ...) is an outcome (`ApplicationRejectedAtIntake`
on `applications.v1`); a command that cannot be processed at all (undecodable, unknown type,
schema-invalid, no receiving officer, key reused with another body, not allowed) is poison:
dead-lettered with the reason.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

import asyncpg
from aiokafka import AIOKafkaProducer

from services.intake.bootstrap import SOURCE
from services.intake.domain.policy import OFFICE_SYSTEM_ROLE
from services.intake.service import IntakeService
from services.intake.service_layer.handlers import SubmitResult
from shared.contracts.applications import INTAKE_COMMANDS, SubmitApplication
from shared.contracts.event import DomainEvent
from shared.domain.actor import Actor
from shared.domain.errors import DomainError
from shared.messaging.consumer import EventConsumer, Handler, Redelivery, after_commit
from shared.messaging.envelope import Envelope, PoisonMessage, envelope_of
from shared.service_layer import Meta

CONSUMER_NAME = "intake.submissions"

Reply = Callable[[Envelope], Awaitable[None]]
"""Publishes an outcome again, for a command the office system re-sent."""


def submission_handler(service: IntakeService, reply: Reply | None = None) -> Handler:
    async def handle(conn: asyncpg.Connection, envelope: Envelope, event: DomainEvent) -> None:
        if not isinstance(event, SubmitApplication):
            raise PoisonMessage(f"not a submission command: {envelope.type}")
        if not envelope.actor:
            raise PoisonMessage("missing header ce_actor: the receiving officer must be named")
        if envelope.office is None:
            raise PoisonMessage("missing header ce_office: the sending office must be named")
        if envelope.office != event.office_id:
            raise PoisonMessage("header ce_office differs from the command's office_id")
        correlation = envelope.correlation_id or envelope.id
        meta = Meta(Actor(envelope.actor, OFFICE_SYSTEM_ROLE, envelope.office), correlation, envelope.id)
        try:
            result: SubmitResult = await service.handle(event, meta, conn=conn)
        except DomainError as exc:
            raise PoisonMessage(f"{(exc.title or exc.code).lower()}: {exc}") from exc
        if result.replayed and reply is not None and result.stored is not None:
            # The office system re-sent the command (say after a timeout): it gets the first outcome
            # again under its new correlation id. The event id stays the same, so consumers that
            # saw it already have no second effect. Sent only once this transaction has committed.
            answer = replace(
                envelope_of(result.stored, SOURCE), correlation_id=correlation, causation_id=envelope.id
            )
            send = reply

            async def send_answer() -> None:
                await send(answer)

            after_commit(send_answer)

    return handle


def submission_consumer(
    pool: asyncpg.Pool,
    schema: str,
    service: IntakeService,
    producer: AIOKafkaProducer,
    retry: Redelivery | None = None,
    *,
    applications_topic: str | None = None,
) -> EventConsumer:
    """The command consumer; with `applications_topic`, a re-sent command is answered there."""
    reply: Reply | None = None
    if applications_topic is not None:
        topic = applications_topic

        async def reply(envelope: Envelope) -> None:
            await producer.send_and_wait(
                topic,
                value=envelope.body(),
                key=(envelope.subject or "").encode(),
                headers=envelope.to_headers(),
            )

    return EventConsumer(
        CONSUMER_NAME, pool, schema, INTAKE_COMMANDS, submission_handler(service, reply), producer, retry
    )
