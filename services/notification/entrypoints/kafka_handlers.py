"""Kafka entrypoints: each consumed event becomes a command run by the service's bus inside
the consumer's inbox transaction. Two consumers with their own inboxes, so the applicant's
notifications and the ЦОН webhooks never hold each other up (an event whose application is
not known yet waits for it without delaying the webhook deliveries of the same decision)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from services.notification.adapters.webhook_store import WebhookEvent, WebhookStore
from services.notification.domain.commands import FanOut, NotifyOn
from services.notification.service import NotificationService
from services.notification.service_layer.webhooks import webhook_event
from shared.contracts.applications import ApplicationRejectedAtIntake, ApplicationSubmitted
from shared.contracts.complaints import ComplaintRegistered, ComplaintResolved, ComplaintReviewExtended
from shared.contracts.decisions import CaseWithdrawn, DecisionMade, InspectionScheduled, TermExtended
from shared.contracts.event import DomainEvent
from shared.contracts.topics import contract_of
from shared.domain.actor import SYSTEM_ROLE, Actor
from shared.messaging.batch_handling import Item
from shared.messaging.consumer import Handler
from shared.messaging.envelope import Envelope
from shared.service_layer import Meta

NOTIFYING = (
    ApplicationSubmitted,
    ApplicationRejectedAtIntake,
    CaseWithdrawn,
    InspectionScheduled,
    DecisionMade,
    TermExtended,
    ComplaintRegistered,
    ComplaintReviewExtended,
    ComplaintResolved,
)
"""The events an applicant hears of (or that stop what is on its way). A withdrawal stops
notices only as the decision service rules on it (`CaseWithdrawn`); intake's
`ApplicationWithdrawn` alone does not (a decision signed first stands: `WithdrawalTooLate`)."""

WEBHOOK_EVENTS = frozenset(contract_of("decisions.v1").events)
"""What a ЦОН webhook subscription may ask for: the events of decisions.v1."""


def meta_of(envelope: Envelope, event: DomainEvent) -> Meta:
    application_id = getattr(event, "application_id", None)
    return Meta(
        Actor(subject="notification-worker", role=SYSTEM_ROLE, office="*"),
        correlation_id=envelope.correlation_id or application_id,
        causation_id=envelope.id,
    )


def applicant_handler(service: NotificationService, decision_source: str) -> Handler:
    async def handle(conn: asyncpg.Connection, envelope: Envelope, event: DomainEvent) -> None:
        if not isinstance(event, NOTIFYING):
            return
        # An office system's InspectionScheduled is a command to the decision service, which
        # publishes the inspection it records: the applicant hears of that one only.
        if isinstance(event, InspectionScheduled) and envelope.source != decision_source:
            return
        await service.execute(
            NotifyOn(event, envelope.id, envelope.region), meta_of(envelope, event), conn=conn
        )

    return handle


def _fan_out(envelope: Envelope, event: DomainEvent) -> FanOut:
    return FanOut(event, envelope.id, envelope.source, envelope.time, envelope.subject, envelope.region)


def webhook_handler(service: NotificationService) -> Handler:
    async def handle(conn: asyncpg.Connection, envelope: Envelope, event: DomainEvent) -> None:
        if type(event) not in WEBHOOK_EVENTS:
            return
        await service.execute(_fan_out(envelope, event), meta_of(envelope, event), conn=conn)

    return handle


class FanOutTogether:
    """The webhook consumer's `BatchHandler` (shared.messaging.batch_handling): the decision events
    of a batch kept and their deliveries queued in one statement (each event is its own key: a
    fan-out depends on nothing another event of the batch changes)."""

    def __init__(self, service: NotificationService) -> None:
        self.service = service

    def key(self, envelope: Envelope, event: DomainEvent) -> str | None:
        return envelope.id

    def accepts(self, envelope: Envelope, event: DomainEvent) -> bool:
        return type(event) in WEBHOOK_EVENTS

    async def prepare(self, conn: asyncpg.Connection, items: Sequence[Item]) -> list[WebhookEvent | None]:
        return [webhook_event(_fan_out(envelope, event)) for envelope, event in items]

    async def write(self, conn: asyncpg.Connection, plans: Sequence[WebhookEvent]) -> None:
        await self.service.webhook_handlers.fan_out_all(plans, WebhookStore(self.service.schema, conn))
