"""`NotifyOn`: an event of another service becomes the applicant's notifications (one per
channel, exactly once: the (event, channel) key), a result waiting to be collected, and, for
decision events, the ЦОН webhook deliveries.

Contacts come with the submission (`ApplicationSubmitted`) or the complaint
(`ComplaintRegistered`) and are kept in the recipients table; later events find them there. An
event that arrives before the registration it refers to (another topic: nothing orders them) is
kept (`deferred_triggers`) and planned when the registration arrives - never a consumer waiting
on it, which would hold up the registration behind it in the same batch.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog

from services.notification.adapters.keeping_store import Waiting
from services.notification.adapters.notification_rows import NewNotification, Recipient
from services.notification.domain import messages as m
from services.notification.domain.channels import collect_in_person
from services.notification.domain.commands import NotifyOn
from services.notification.domain.deferred import trimmed
from services.notification.service_layer.composing import Composer
from services.notification.service_layer.publishing import publish_states, stop_pending
from services.notification.service_layer.recipients import (
    applicant,
    application_subject,
    complainant,
    complaint_subject,
    queued_row,
)
from services.notification.service_layer.unit_of_work import NotificationUnit
from shared.contracts.applications import ApplicationRejectedAtIntake, ApplicationSubmitted
from shared.contracts.complaints import ComplaintRegistered, ComplaintResolved, ComplaintReviewExtended
from shared.contracts.decisions import CaseWithdrawn, DecisionMade, InspectionScheduled, TermExtended
from shared.contracts.notifications import NotificationKind, ResultUncollected
from shared.contracts.topics import registry_of
from shared.service_layer import Meta

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]


DEFERRABLE = registry_of(("applications.v1", "inspections.v1", "decisions.v1", "complaints.v1"))


class NotRegisteredYet(Exception):
    """The event's application (or complaint) has not been registered here yet."""

    def __init__(self, subject: str) -> None:
        super().__init__(subject)
        self.subject = subject


class CaseWithdrawnAlready(Exception):
    """The decision service closed the case as withdrawn: a later trigger plans nothing."""


class Planner(Composer):
    async def handle(self, cmd: NotifyOn, uow: NotificationUnit, meta: Meta) -> int:
        """Queue what the event calls for; return how many notifications were queued now. An
        event whose recipient is not registered yet is kept and planned on registration."""
        if isinstance(cmd.event, ApplicationSubmitted | ComplaintRegistered):
            return await self._register(cmd, cmd.event, uow, meta)
        try:
            try:
                return await self._plan(cmd, uow, meta)
            except NotRegisteredYet as missing:
                if await self._keep(cmd, missing.subject, uow):
                    return 0
            # Registered by a transaction that committed meanwhile: planned now.
            return await self._plan(cmd, uow, meta)
        except CaseWithdrawnAlready:
            log.info("case withdrawn: nothing planned", event_type=cmd.event.event_name)
            return 0

    async def _keep(self, cmd: NotifyOn, subject: str, uow: NotificationUnit) -> bool:
        """Keep the event until its recipient is registered; False if it is registered now."""
        await uow.notifications.lock_subject(subject)
        data = trimmed(cmd.event).model_dump(mode="json")
        kept = await uow.notifications.defer(
            subject, cmd.event_id, cmd.event.ce_type(), data, cmd.region, self.clock()
        )
        if kept:
            log.info("kept until its registration arrives", event_type=cmd.event.event_name)
        return kept

    async def _register(
        self,
        cmd: NotifyOn,
        event: ApplicationSubmitted | ComplaintRegistered,
        uow: NotificationUnit,
        meta: Meta,
    ) -> int:
        """The recipient is kept (the events that waited for it are taken in the same statement),
        the registration's own notice queued, then what waited planned in the order it came."""
        recipient = applicant(event) if isinstance(event, ApplicationSubmitted) else complainant(event)
        await uow.notifications.lock_subject(recipient.subject)
        waiting = await uow.notifications.register(recipient)
        if isinstance(event, ApplicationSubmitted):
            queued = await self._write(uow, meta, self.talon(cmd.event_id, event, recipient))
        else:
            zone = self.catalog.zone(event.region)
            queued = await self._queue(
                uow, cmd, meta, "complaint_registered", recipient,
                lambda lang: m.complaint_registered(event, zone), complaint_id=event.complaint_id,
            )  # fmt: skip
        for row in waiting:
            kept = DEFERRABLE.decode(row["event_type"], row["data"])
            queued += await self._plan(NotifyOn(kept, row["event_id"], row["region"]), uow, meta)
        return queued

    async def _plan(self, cmd: NotifyOn, uow: NotificationUnit, meta: Meta) -> int:
        event = cmd.event
        match event:
            case ApplicationRejectedAtIntake():
                known = await uow.notifications.recipient(application_subject(event.application_id))
                if known is None:  # refused at the desk: the receipt was handed over there
                    return 0
                zone = self.catalog.zone(event.region)
                name = self.catalog.service_name
                return await self._queue(
                    uow, cmd, meta, "intake_refused", known,
                    lambda lang: m.intake_refused(event, name(event.service_id, lang), zone),
                )  # fmt: skip
            case CaseWithdrawn():
                # The decision service's ruling, not intake's ApplicationWithdrawn: a withdrawal
                # that came after the signature (`WithdrawalTooLate`) leaves the decision standing.
                subject = application_subject(event.application_id)
                await self._needed(uow, subject)
                now = self.clock()
                stopped = await stop_pending(uow, event.application_id, "application withdrawn", now, meta)
                await uow.keeping.close(event.application_id, "cancelled", now)
                await uow.notifications.mark_withdrawn(subject, event.withdrawn_at)
                return -stopped
            case InspectionScheduled() if event.communicated_to_applicant:
                recipient = await self._needed(uow, application_subject(event.application_id))
                facts = self._facts(recipient)
                return await self._queue(
                    uow, cmd, meta, "inspection_scheduled", recipient,
                    lambda lang: m.inspection_scheduled(event, facts(lang)),
                )  # fmt: skip
            case DecisionMade():
                return await self._decision(uow, cmd, meta, event)
            case TermExtended():
                recipient = await self._needed(uow, application_subject(event.application_id))
                facts = self._facts(recipient)
                zone = self.catalog.zone(recipient.region)
                return await self._queue(
                    uow,
                    cmd,
                    meta,
                    "term_extended",
                    recipient,
                    lambda lang: m.term_extended(event, facts(lang), zone),
                )
            case ResultUncollected():
                recipient = await self._needed(uow, application_subject(event.application_id))
                facts = self._facts(recipient)
                return await self._queue(
                    uow,
                    cmd,
                    meta,
                    "result_uncollected",
                    recipient,
                    lambda lang: m.result_uncollected(event, facts(lang)),
                )
            case ComplaintReviewExtended():
                recipient = await self._needed(uow, complaint_subject(event.complaint_id))
                number = recipient.registration_number or event.complaint_id
                return await self._queue(
                    uow, cmd, meta, "complaint_review_extended", recipient,
                    lambda lang: m.complaint_review_extended(event, number), complaint_id=event.complaint_id,
                )  # fmt: skip
            case ComplaintResolved():
                recipient = await self._needed(uow, complaint_subject(event.complaint_id))
                number = recipient.registration_number or event.complaint_id
                zone = self.catalog.zone(recipient.region)
                return await self._queue(
                    uow, cmd, meta, "complaint_resolved", recipient,
                    lambda lang: m.complaint_resolved(event, number, zone), complaint_id=event.complaint_id,
                )  # fmt: skip
        return 0

    async def _decision(self, uow: NotificationUnit, cmd: NotifyOn, meta: Meta, event: DecisionMade) -> int:
        delivery = self.catalog.delivery(event.service_id, event.edition_id)
        in_person = collect_in_person(delivery.result_delivery)
        subject = application_subject(event.application_id)
        recipient = _usable(subject, await uow.notifications.decided(subject, event.decided_at, in_person))
        keeping = self.keeping(event, delivery, in_person)
        if keeping is not None:
            waiting = Waiting(
                event.application_id, event.service_id, event.office_id, event.region,
                event.decided_at, keeping, cmd.event_id,
            )  # fmt: skip
            await uow.keeping.start(waiting)
        return await self._write(
            uow, meta, self.decision_notices(cmd.event_id, event, recipient, delivery, in_person)
        )

    async def _needed(self, uow: NotificationUnit, subject: str) -> Recipient:
        """The registered recipient; NotRegisteredYet (kept for later), or CaseWithdrawnAlready
        once the decision service closed the case as withdrawn."""
        return _usable(subject, await uow.notifications.recipient(subject))

    async def _queue(
        self,
        uow: NotificationUnit,
        cmd: NotifyOn,
        meta: Meta,
        kind: NotificationKind,
        recipient: Recipient,
        context_of: Callable[[str], dict[str, Any]],
        *,
        complaint_id: str | None = None,
    ) -> int:
        notifications = self.compose(cmd.event_id, kind, recipient, context_of, complaint_id=complaint_id)
        return await self._write(uow, meta, notifications)

    async def _write(self, uow: NotificationUnit, meta: Meta, notifications: list[NewNotification]) -> int:
        """Queue the notifications (those of this trigger and channel that exist stay as they
        are) and publish their first state; how many were queued now."""
        if not notifications:
            return 0
        queued = await uow.notifications.queue(notifications)
        await publish_states(uow, [queued_row(n) for n in queued], notifications[0].queued_at, meta)
        return len(queued)


def _usable(subject: str, recipient: Recipient | None) -> Recipient:
    """NotRegisteredYet (the event is kept for later), or CaseWithdrawnAlready once the decision
    service closed the case as withdrawn."""
    if recipient is None:
        raise NotRegisteredYet(subject)
    if recipient.withdrawn_at is not None:
        raise CaseWithdrawnAlready(subject)
    return recipient
