"""Kafka: the application's steps after intake become `RecordCaseProgress` commands on its stream:
the case's steps from the decision service (`decisions.v1`, and `inspections.v1` where office
systems also send commands: only the decision service's own inspection events count), complaints
about it (`complaints.v1`) and what the applicant was told (`notifications.v1`).

`TRANSLATIONS` is the whole mapping, event type -> step; an event it does not name (deadline
warnings, flags...) is not a step of the status view and is skipped. Only ids, dates and
outcomes are taken over: the complainant's identity and contacts stay out of intake's store. A
service that starts publishing new steps adds its topic and lines here, and the step's status in
`domain/status.py`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer

from services.intake.domain.commands import RecordCaseProgress
from services.intake.service import IntakeService
from shared.contracts.application_progress import CaseProgressRecorded, CaseStep, GroundRef
from shared.contracts.complaints import (
    ComplaintEscalated,
    ComplaintRegistered,
    ComplaintResolved,
    ComplaintReviewExtended,
)
from shared.contracts.decisions import (
    ApplicationReopened,
    CaseWithdrawn,
    DecisionMade,
    DecisionReturnedForRework,
    DecisionSubmittedForSignature,
    EntitlementRestored,
    EntitlementStarted,
    EntitlementSuspended,
    EntitlementTerminated,
    ExecutorAssigned,
    InspectionCompleted,
    InspectionScheduled,
    TermExtended,
    WithdrawalTooLate,
)
from shared.contracts.event import DomainEvent
from shared.contracts.notifications import NotificationStateChanged, ResultCollected, ResultUncollected
from shared.contracts.topics import registry_of
from shared.domain.actor import SYSTEM_ROLE, Actor
from shared.domain.errors import DomainError, NotFound
from shared.messaging.consumer import EventConsumer, Handler, Redelivery
from shared.messaging.envelope import Envelope, PoisonMessage
from shared.service_layer import Meta

log = structlog.get_logger(__name__)

CONSUMER_NAME = "intake.case_progress"
DECISIONS_TOPIC = "decisions.v1"
INSPECTIONS_TOPIC = "inspections.v1"
COMPLAINTS_TOPIC = "complaints.v1"
NOTIFICATIONS_TOPIC = "notifications.v1"
CONSUMED_TOPICS = (DECISIONS_TOPIC, INSPECTIONS_TOPIC, COMPLAINTS_TOPIC, NOTIFICATIONS_TOPIC)
OFFICE_COMMANDS = (InspectionScheduled, InspectionCompleted)
"""Events office systems also send as commands: a step only once the decision service records it."""
INTAKE_SYSTEM = Actor("system:intake", SYSTEM_ROLE, "*")


def decision_source() -> str:
    """The `ce_source` of the decision service's events (its `DECISION_SOURCE` setting)."""
    return os.environ.get("DECISION_SOURCE") or "/qyzmet/decision"


Facts = Callable[[Any], dict[str, Any]]

TRANSLATIONS: dict[type[DomainEvent], tuple[CaseStep, Facts]] = {
    ExecutorAssigned: ("executor_assigned", lambda e: {"executor": e.executor, "recorded_by": e.assigned_by}),
    InspectionScheduled: (
        "inspection_scheduled",
        lambda e: {"inspection_date": e.inspection_date, "recorded_by": e.scheduled_by},
    ),
    InspectionCompleted: ("inspection_completed", lambda e: {"recorded_by": e.recorded_by}),
    DecisionSubmittedForSignature: ("submitted_for_signature", lambda e: {"recorded_by": e.submitted_by}),
    # Who returned the draft, not why: the head's free-text reason stays out of intake's store.
    DecisionReturnedForRework: ("returned_for_rework", lambda e: {"recorded_by": e.returned_by}),
    DecisionMade: (
        "decision_made",
        lambda e: {
            "outcome": e.outcome,
            "decided_at": e.decided_at,
            "grounds": tuple(GroundRef(id=g.id, text=g.text) for g in e.grounds),
            "recorded_by": e.signed_by or e.drafted_by,
        },
    ),
    TermExtended: ("term_extended", lambda e: {"due_at": e.new_due_at}),
    EntitlementStarted: ("entitlement_started", lambda e: {"effective": e.start}),
    EntitlementSuspended: (
        "entitlement_suspended",
        lambda e: {"effective": e.effective, "recorded_by": e.recorded_by},
    ),
    EntitlementRestored: (
        "entitlement_restored",
        lambda e: {"effective": e.effective, "recorded_by": e.recorded_by},
    ),
    EntitlementTerminated: (
        "entitlement_terminated",
        lambda e: {"effective": e.effective, "recorded_by": e.recorded_by},
    ),
    ApplicationReopened: ("reopened", lambda e: {"due_at": e.new_due_at, "recorded_by": e.reopened_by}),
    CaseWithdrawn: ("case_withdrawn", lambda e: {}),
    WithdrawalTooLate: ("withdrawal_too_late", lambda e: {"decided_at": e.decided_at, "outcome": e.outcome}),
    ComplaintRegistered: (
        "complaint_registered",
        lambda e: {
            "complaint_id": e.complaint_id,
            "review_due_on": e.review_due_on,
            "recorded_by": e.registered_by,
        },
    ),
    ComplaintReviewExtended: (
        "complaint_review_extended",
        lambda e: {
            "complaint_id": e.complaint_id,
            "review_due_on": e.review_due_on,
            "recorded_by": e.extended_by,
        },
    ),
    ComplaintResolved: (
        "complaint_resolved",
        lambda e: {
            "complaint_id": e.complaint_id,
            "complaint_outcome": e.outcome,
            "recorded_by": e.reviewed_by,
        },
    ),
    ComplaintEscalated: (
        "complaint_escalated",
        lambda e: {"complaint_id": e.complaint_id, "escalated_to": e.to, "recorded_by": e.recorded_by},
    ),
    NotificationStateChanged: (
        "notification_state_changed",
        lambda e: {
            "notification_id": e.notification_id,
            "notification_kind": e.kind,
            "notification_channel": e.channel,
            "delivery_state": e.state,
            "trigger_event_id": e.trigger_event_id,
        },
    ),
    ResultCollected: ("result_collected", lambda e: {"recorded_by": e.handed_over_by}),
    ResultUncollected: ("result_uncollected", lambda e: {}),
}


def progress_of(envelope: Envelope, event: DomainEvent) -> CaseProgressRecorded | None:
    """The step a consumed event records, or None if it is not one."""
    translation = TRANSLATIONS.get(type(event))
    application_id = getattr(event, "application_id", None)
    if translation is None or application_id is None:
        return None
    step, facts = translation
    return CaseProgressRecorded(
        application_id=application_id,
        step=step,
        source_event_id=envelope.id,
        source_event_type=type(event).event_name,
        occurred_at=envelope.time,
        **{"recorded_by": envelope.actor, **facts(event)},
    )


def case_progress_handler(service: IntakeService, source: str) -> Handler:
    async def handle(conn: asyncpg.Connection, envelope: Envelope, event: DomainEvent) -> None:
        if isinstance(event, OFFICE_COMMANDS) and envelope.source != source:
            return  # an office system's inspection command: a step only once the case records it
        progress = progress_of(envelope, event)
        if progress is None:
            return
        meta = Meta(INTAKE_SYSTEM, envelope.correlation_id, envelope.id)
        try:
            await service.handle(RecordCaseProgress(progress), meta, conn=conn)
        except NotFound:
            # A case of an application this intake never took (another installation's): not ours.
            log.info("case step of an unknown application", event_type=progress.source_event_type)
        except DomainError as exc:
            raise PoisonMessage(f"case step refused: {exc}") from exc

    return handle


def case_progress_consumer(
    pool: asyncpg.Pool,
    schema: str,
    service: IntakeService,
    producer: AIOKafkaProducer,
    retry: Redelivery | None = None,
    *,
    source: str | None = None,
) -> EventConsumer:
    """The consumer of the topics that tell an application's steps after intake (`CONSUMED_TOPICS`)."""
    return EventConsumer(
        CONSUMER_NAME,
        pool,
        schema,
        registry_of(CONSUMED_TOPICS),
        case_progress_handler(service, source or decision_source()),
        producer,
        retry,
        handles=tuple(TRANSLATIONS),
    )
