"""Kafka entrypoints of the complaints service.

- `complaints.submissions.v1`: `FileComplaint` commands from office systems, run by the same bus
  as the HTTP API inside the consumer's inbox transaction. A command that cannot be registered
  (undecodable, unknown type, schema-invalid, no registering officer or office, a refusal such
  as no complaint procedure, a key reused with another body) is poison: dead-lettered with the
  reason. A complaint about an application (or decision) the read model has not learnt of yet is
  retried with back-off first (`RetryLater`): the application's events may still be on their way.
  The same key and body again is the same complaint.
- `applications.v1` and `decisions.v1`: the read model of applications (service, office,
  region, state) that registration and the figures need.
"""

from __future__ import annotations

import asyncpg
from aiokafka import AIOKafkaProducer

from services.complaints.adapters.facts_batch import FactsBatch
from services.complaints.adapters.read_model import FACT_EVENTS, ApplicationFacts, facts_handler
from services.complaints.bootstrap import FACT_TOPICS
from services.complaints.domain.policy import OFFICE_SYSTEM_ROLE
from services.complaints.service import ComplaintsService
from services.complaints.service_layer.registration import NotYetKnown
from shared.contracts.complaints import COMPLAINT_COMMANDS, FileComplaint
from shared.contracts.event import DomainEvent
from shared.contracts.topics import registry_of
from shared.domain.actor import Actor
from shared.domain.errors import DomainError
from shared.messaging.consumer import EventConsumer, Handler, Redelivery
from shared.messaging.envelope import Envelope, PoisonMessage, RetryLater
from shared.service_layer import Meta

SUBMISSIONS_CONSUMER = "complaints.submissions"
FACTS_CONSUMER = "complaints.application-facts"


def submission_handler(service: ComplaintsService) -> Handler:
    async def handle(conn: asyncpg.Connection, envelope: Envelope, event: DomainEvent) -> None:
        if not isinstance(event, FileComplaint):
            raise PoisonMessage(f"not a complaint command: {envelope.type}")
        if not envelope.actor:
            raise PoisonMessage("missing header ce_actor: the registering officer must be named")
        if envelope.office is None:
            raise PoisonMessage("missing header ce_office: the registering office must be named")
        if event.received_at_office is not None and envelope.office != event.received_at_office:
            raise PoisonMessage("header ce_office differs from the command's received_at_office")
        correlation = envelope.correlation_id or envelope.id
        meta = Meta(Actor(envelope.actor, OFFICE_SYSTEM_ROLE, envelope.office), correlation, envelope.id)
        try:
            await service.handle(event, meta, conn=conn)
        except NotYetKnown as exc:
            # Its application's events may still be on their way: retried with back-off, and
            # dead-lettered with this reason only once the consumer's retry budget is spent.
            raise RetryLater(f"not registered yet: {exc}") from exc
        except DomainError as exc:
            reasons = "; ".join(f"{e.get('field')}: {e.get('reason')}" for e in exc.errors)
            detail = f"{(exc.title or exc.code).lower()}: {exc}" + (f" ({reasons})" if reasons else "")
            raise PoisonMessage(detail) from exc

    return handle


def submission_consumer(
    pool: asyncpg.Pool,
    schema: str,
    service: ComplaintsService,
    producer: AIOKafkaProducer,
    retry: Redelivery | None = None,
) -> EventConsumer:
    return EventConsumer(
        SUBMISSIONS_CONSUMER, pool, schema, COMPLAINT_COMMANDS, submission_handler(service), producer, retry
    )


def facts_consumer(
    pool: asyncpg.Pool, schema: str, producer: AIOKafkaProducer, retry: Redelivery | None = None
) -> EventConsumer:
    facts = ApplicationFacts(schema)
    return EventConsumer(
        FACTS_CONSUMER,
        pool,
        schema,
        registry_of(FACT_TOPICS),
        facts_handler(facts),
        producer,
        retry,
        FactsBatch(facts),
        handles=FACT_EVENTS,
    )
