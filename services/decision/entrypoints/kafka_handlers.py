"""Kafka entrypoints of the decision service: each consumed event becomes a case command run by
the service's bus inside the consumer's inbox transaction (plain async functions; no faust here)."""

from __future__ import annotations

import asyncpg
import structlog

from services.decision.domain import commands as c
from services.decision.domain.errors import CaseNotFound, DomainError
from services.decision.service import DecisionService
from shared.contracts.applications import ApplicationSubmitted, ApplicationWithdrawn
from shared.contracts.complaints import ComplaintResolved
from shared.contracts.decisions import InspectionCompleted, InspectionScheduled
from shared.contracts.event import DomainEvent
from shared.domain.actor import SYSTEM_ROLE
from shared.messaging.consumer import Handler
from shared.messaging.envelope import Envelope, PoisonMessage, RetryLater

log = structlog.get_logger(__name__)


def application_handler(service: DecisionService) -> Handler:
    """`applications.v1`: every ApplicationSubmitted opens a case."""

    async def handle(conn: asyncpg.Connection, envelope: Envelope, event: DomainEvent) -> None:
        if not isinstance(event, ApplicationSubmitted):
            return
        await service.execute(
            event.application_id,
            c.OpenCase(event),
            conn=conn,
            correlation_id=envelope.correlation_id or event.application_id,
            causation_id=envelope.id,
        )

    return handle


def withdrawal_handler(service: DecisionService) -> Handler:
    """`applications.v1`: an ApplicationWithdrawn closes the case unless a decision was signed
    (`domain/withdrawal.py` says how the race with a signature resolves)."""

    async def handle(conn: asyncpg.Connection, envelope: Envelope, event: DomainEvent) -> None:
        if not isinstance(event, ApplicationWithdrawn):
            return
        command = c.CloseWithdrawn(
            actor=c.SYSTEM, withdrawn_by=event.withdrawn_by, withdrawn_at=event.withdrawn_at
        )
        try:
            await service.execute(
                event.application_id,
                command,
                conn=conn,
                correlation_id=envelope.correlation_id or event.application_id,
                causation_id=envelope.id,
            )
        except CaseNotFound:
            # Its submission opened no case (refused by the decision service, dead-lettered): the
            # withdrawal follows it on the same partition, so no case will ever come.
            log.info("withdrawal of an application without a case", application_id=event.application_id)
        except DomainError as exc:
            raise PoisonMessage(f"withdrawal refused: {exc}") from exc

    return handle


def inspection_handler(service: DecisionService, own_source: str) -> Handler:
    """`inspections.v1`: commands from office systems (our own published events are skipped)."""

    async def handle(conn: asyncpg.Connection, envelope: Envelope, event: DomainEvent) -> None:
        if envelope.source == own_source or not isinstance(event, InspectionCompleted | InspectionScheduled):
            return
        # The sending office is the envelope's (its ce_office header), never only the body's claim.
        if envelope.office is None:
            raise PoisonMessage("missing header ce_office: the sending office must be named")
        if envelope.office != event.office_id:
            raise PoisonMessage("header ce_office differs from the act's office_id")
        command: c.Command
        if isinstance(event, InspectionCompleted):
            actor = c.Actor(subject=event.recorded_by, role="inspector", office=event.office_id)
            command = c.RecordInspection(actor=actor, act=event.act)
        elif isinstance(event, InspectionScheduled):
            actor = c.Actor(subject=event.scheduled_by, role="inspector", office=event.office_id)
            command = c.ScheduleInspection(
                actor=actor,
                inspection_date=event.inspection_date,
                inspecting_body=event.inspecting_body,
                communicated_to_applicant=event.communicated_to_applicant,
            )
        else:
            return
        try:
            await service.execute(
                event.application_id,
                command,
                conn=conn,
                correlation_id=envelope.correlation_id,
                causation_id=envelope.id,
            )
        except CaseNotFound as exc:
            # The act may overtake its application (the two topics are not ordered): wait for it.
            raise RetryLater(f"no case yet for application {event.application_id}") from exc
        except DomainError as exc:
            raise PoisonMessage(f"inspection command refused: {exc}") from exc

    return handle


def complaint_outcome_handler(service: DecisionService) -> Handler:
    """`complaints.v1`: a complaint upheld against the decision (`reopen_case`) reopens the case.

    The complaints service checked the reviewer's authority over the complaint when it resolved
    it; here the service acts on that published outcome as itself, in the reviewer's name (the
    history shows who reopened the case and after which complaint). Other complaint events and
    outcomes that leave the decision standing change nothing."""

    async def handle(conn: asyncpg.Connection, envelope: Envelope, event: DomainEvent) -> None:
        if not isinstance(event, ComplaintResolved) or not event.reopen_case:
            return
        if event.application_id is None:
            raise PoisonMessage("an outcome that reopens a case must name its application")
        actor = c.Actor(subject=event.reviewed_by, role=SYSTEM_ROLE, office=event.reviewing_office)
        # The reviewer's reasoning answers the complaint's text (personal data): it stays with the
        # complaints service; the case records which complaint reopened it, and how it ended.
        reason = f"complaint {event.complaint_id} {event.outcome.replace('_', ' ')}"
        command = c.ReopenApplication(
            actor=actor,
            complaint_id=event.complaint_id,
            reason=reason,
            contested_decided_at=event.contested_decision_at,
        )
        try:
            await service.execute(
                event.application_id,
                command,
                conn=conn,
                correlation_id=envelope.correlation_id or event.application_id,
                causation_id=envelope.id,
            )
        except CaseNotFound as exc:
            raise PoisonMessage(f"no case to reopen for application {event.application_id}") from exc
        except DomainError as exc:
            raise PoisonMessage(f"reopening refused: {exc}") from exc

    return handle


def consumer_handler(service: DecisionService, source: str) -> Handler:
    """The decision worker's consumer: one handler per consumed event type; others are not ours."""
    on_inspection = inspection_handler(service, source)
    handlers: dict[type[DomainEvent], Handler] = {
        ApplicationSubmitted: application_handler(service),
        ApplicationWithdrawn: withdrawal_handler(service),
        InspectionScheduled: on_inspection,
        InspectionCompleted: on_inspection,
        ComplaintResolved: complaint_outcome_handler(service),
    }

    async def handle(conn: asyncpg.Connection, envelope: Envelope, event: DomainEvent) -> None:
        handler = handlers.get(type(event))
        if handler is not None:
            await handler(conn, envelope, event)

    return handle
