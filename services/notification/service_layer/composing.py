"""What an event's notifications are: the channels the recipient can be reached by, the message's
data in the recipient's language, and how long a result collected in person is kept. Nothing is
written here (`Planner` and the applicant consumer's batch write what this composes)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog

from services.notification.adapters.catalog import EditionDelivery, NotificationCatalog
from services.notification.adapters.notification_rows import NewNotification, Recipient
from services.notification.domain import messages as m
from services.notification.domain.channels import ContactKinds, channels_for
from services.notification.domain.keeping import Keeping, keeping_of
from services.notification.settings import NotificationSettings
from shared.contracts.applications import ApplicationSubmitted
from shared.contracts.decisions import DecisionMade
from shared.contracts.notifications import NotificationKind

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]


def keeping_starts(event: DecisionMade) -> datetime:
    """The keeping period runs from the application's due date, or the decision if that came
    later: the office keeps a result the applicant "did not come for within the set term"
    (004 L698: белгіленген мерзімде келмеген жағдайларда ... бір ай мерзімде сақтауды)."""
    if event.due_at is None:
        return event.decided_at
    return max(event.decided_at, event.due_at)


class Composer:
    def __init__(self, catalog: NotificationCatalog, settings: NotificationSettings, clock: Clock) -> None:
        self.catalog = catalog
        self.settings = settings
        self.clock = clock

    def keeping(self, event: DecisionMade, delivery: EditionDelivery, in_person: bool) -> Keeping | None:
        """How long the office keeps a result collected in person (None: not kept)."""
        if not in_person or event.outcome == "information":
            return None
        return keeping_of(
            delivery.storage, keeping_starts(event), self.catalog.zone(event.region), delivery.citation
        )

    def talon(self, trigger: str, event: ApplicationSubmitted, recipient: Recipient) -> list[NewNotification]:
        facts = self._facts(recipient)
        zone = self.catalog.zone(event.region)
        return self.compose(
            trigger, "talon_issued", recipient, lambda lang: m.talon_issued(event, facts(lang), zone)
        )

    def decision_notices(
        self,
        trigger: str,
        event: DecisionMade,
        recipient: Recipient,
        delivery: EditionDelivery,
        in_person: bool,
    ) -> list[NewNotification]:
        facts = self._facts(recipient)
        zone = self.catalog.zone(event.region)
        return self.compose(
            trigger, "decision_made", recipient,
            lambda lang: m.decision_made(event, facts(lang), zone, in_person),
            result_delivery=delivery.result_delivery,
        )  # fmt: skip

    def _facts(self, recipient: Recipient) -> Callable[[str], m.CaseFacts]:
        def facts(language: str) -> m.CaseFacts:
            return m.CaseFacts(
                recipient.registration_number or recipient.application_id or "",
                self.catalog.service_name(recipient.service_id, language),
            )

        return facts

    def compose(
        self,
        trigger: str,
        kind: NotificationKind,
        recipient: Recipient,
        context_of: Callable[[str], dict[str, Any]],
        *,
        complaint_id: str | None = None,
        result_delivery: tuple[str, ...] | None = None,
    ) -> list[NewNotification]:
        """The notifications `trigger` calls for: one per channel the recipient can be reached by."""
        if result_delivery is None:
            result_delivery = self.catalog.delivery(
                recipient.service_id, recipient.edition_id
            ).result_delivery
        contacts = ContactKinds(
            email=bool(recipient.email), phone=bool(recipient.phone), address=bool(recipient.address)
        )
        channels = channels_for(kind, contacts, result_delivery, self.settings.offered_channels)
        if not channels:
            log.info("nothing to send: no usable contact", kind=kind, subject=recipient.subject.split("/")[0])
            return []
        now = self.clock()
        context = context_of(recipient.language)
        give_up_at = self.settings.backoff().give_up_at(now)
        return [
            NewNotification(
                notification_id=uuid.uuid4(),
                trigger_event_id=trigger,
                channel=channel,
                kind=kind,
                recipient=recipient.subject,
                application_id=recipient.application_id,
                complaint_id=complaint_id,
                office_id=recipient.office_id,
                region=recipient.region,
                language=recipient.language,
                context=context,
                queued_at=now,
                give_up_at=give_up_at,
            )
            for channel in channels
        ]
