"""The applicant consumer's `BatchHandler` (shared.messaging.batch_handling, issue 14): the
submissions and decisions of different applications in a batch are planned together - their
recipients locked, checked and read in a statement or two, then registered, marked decided,
their notifications queued and their first states appended in one statement each - instead of
a handful of statements per event.

What the batch would plan differently from `Planner` is left to it, one by one after the batch:
a submission with events kept for it (they are planned on registration), a decision whose
recipient is not registered yet (kept) or withdrawn, or whose result the office keeps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import asyncpg

from services.notification.adapters.notification_rows import NewNotification, Recipient
from services.notification.adapters.planning_batch_store import Decided, PlanningBatchStore
from services.notification.adapters.repository import NotificationStore
from services.notification.domain.channels import collect_in_person
from services.notification.entrypoints.kafka_handlers import meta_of
from services.notification.service import NotificationService
from services.notification.service_layer.publishing import state_changes
from services.notification.service_layer.recipients import applicant, application_subject, queued_row
from shared.contracts.applications import ApplicationSubmitted
from shared.contracts.decisions import DecisionMade
from shared.contracts.event import DomainEvent
from shared.eventstore import EventStore
from shared.messaging.batch_handling import Item
from shared.messaging.envelope import Envelope
from shared.service_layer import Meta
from shared.service_layer.streams import new_event


@dataclass(frozen=True)
class Planned:
    meta: Meta
    notifications: list[NewNotification] = field(default_factory=list)
    registered: Recipient | None = None
    decided: Decided | None = None


class NotifyTogether:
    def __init__(self, service: NotificationService) -> None:
        self.service = service

    def key(self, envelope: Envelope, event: DomainEvent) -> str | None:
        if isinstance(event, ApplicationSubmitted | DecisionMade):
            return application_subject(event.application_id)
        return None

    def accepts(self, envelope: Envelope, event: DomainEvent) -> bool:
        return isinstance(event, ApplicationSubmitted | DecisionMade)

    async def prepare(self, conn: asyncpg.Connection, items: Sequence[Item]) -> list[Planned | None]:
        store = PlanningBatchStore(self.service.schema, conn)
        registering = [
            application_subject(e.application_id) for _, e in items if isinstance(e, ApplicationSubmitted)
        ]
        kept: set[str] = set()
        if registering:
            await store.lock_subjects(registering)  # as the one-by-one registration does
            kept = await store.kept_for(registering)
        deciding = [application_subject(e.application_id) for _, e in items if isinstance(e, DecisionMade)]
        known = await store.recipients(deciding) if deciding else {}
        return [self._plan(envelope, event, kept, known) for envelope, event in items]

    def _plan(
        self, envelope: Envelope, event: DomainEvent, kept: set[str], known: dict[str, Recipient]
    ) -> Planned | None:
        planner = self.service.planner
        meta = meta_of(envelope, event)
        if isinstance(event, ApplicationSubmitted):
            recipient = applicant(event)
            if recipient.subject in kept:
                return None
            return Planned(meta, planner.talon(envelope.id, event, recipient), registered=recipient)
        assert isinstance(event, DecisionMade)
        known_recipient = known.get(application_subject(event.application_id))
        if known_recipient is None or known_recipient.withdrawn_at is not None:
            return None
        delivery = planner.catalog.delivery(event.service_id, event.edition_id)
        in_person = collect_in_person(delivery.result_delivery)
        if planner.keeping(event, delivery, in_person) is not None:
            return None
        notices = planner.decision_notices(envelope.id, event, known_recipient, delivery, in_person)
        return Planned(meta, notices, decided=(known_recipient.subject, event.decided_at, in_person))

    async def write(self, conn: asyncpg.Connection, plans: Sequence[Planned]) -> None:
        schema = self.service.schema
        store = PlanningBatchStore(schema, conn)
        await store.register([p.registered for p in plans if p.registered is not None])
        await store.mark_decided([p.decided for p in plans if p.decided is not None])
        queued = await NotificationStore(schema, conn).queue([n for p in plans for n in p.notifications])
        fresh = {n.notification_id for n in queued}
        appended = []
        for plan in plans:
            rows = [queued_row(n) for n in plan.notifications if n.notification_id in fresh]
            if not rows:
                continue
            for stream, state, office, region in state_changes(rows, plan.notifications[0].queued_at):
                office = office or plan.meta.actor.office
                metadata = plan.meta.event_metadata(office=office, region=region)
                appended.append((stream, [new_event(state, metadata)]))
        if appended:
            await EventStore(schema).append_batch_heads(conn, appended)
