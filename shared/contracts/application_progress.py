"""What intake keeps on an application's stream of the case's life in the decision service.

Intake consumes the decision service's public events (`decisions.v1`, `inspections.v1`) and
records each step it shows in the status view as `CaseProgressRecorded` on the application's own
stream: the status projection is rebuilt from intake's event store alone (`qyzmet replay
intake.applications`), and the withdrawal handler knows, inside its own unit of work, whether a
decision was signed. These events are internal to intake: stored, never published.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from shared.contracts.applications import APPLICATION_EVENTS
from shared.contracts.complaints import ComplaintOutcome
from shared.contracts.decisions.parts import DecisionOutcome
from shared.contracts.event import ContractModel, DomainEvent
from shared.contracts.notifications import DeliveryState, NotificationChannel, NotificationKind
from shared.contracts.registry import EventRegistry

STATUS_VIEW_PROJECTION = "intake.applications"
"""Intake's status view (the applications rows these steps move) as named in its schema's
`projection_checkpoints`: its projector writes its place under it, `audit export --iin` reads it.
Here, not with the audit export: a replay's worker processes and the projector need only the name."""

CaseStep = Literal[
    "executor_assigned",
    "inspection_scheduled",
    "inspection_completed",
    "submitted_for_signature",
    "returned_for_rework",
    "decision_made",
    "term_extended",
    "entitlement_started",
    "entitlement_suspended",
    "entitlement_restored",
    "entitlement_terminated",
    "reopened",
    "case_withdrawn",
    "withdrawal_too_late",
    "complaint_registered",
    "complaint_review_extended",
    "complaint_resolved",
    "complaint_escalated",
    "notification_state_changed",
    "result_collected",
    "result_uncollected",
]
"""What happened to the application after intake, as intake records it: the case's steps in the
decision service, complaints about it (complaints service), and what the applicant was told and
whether the result was collected (notification service). A new step is a line here, a
translation of its event, and a line of intake's status table."""


class GroundRef(ContractModel):
    """A decision's legal ground as the status view shows it (catalog id and text)."""

    id: str
    text: str


class CaseProgressRecorded(DomainEvent):
    """One step of the application's case, learnt from another service's published event."""

    event_name = "application.case_progress_recorded"
    event_version = 1

    application_id: str
    step: CaseStep
    source_event_id: str
    """The `ce_id` of the event it was learnt from."""
    source_event_type: str
    """That event's name, e.g. `decision.made` (the history shows it)."""
    occurred_at: datetime
    """When the publishing service recorded the event (`ce_time`): orders steps across topics."""
    recorded_by: str | None = None
    """The actor the publisher named (an officer, or the service itself)."""
    outcome: DecisionOutcome | None = None
    decided_at: datetime | None = None
    grounds: tuple[GroundRef, ...] = ()
    due_at: datetime | None = None
    """The new due date (a term extension, a reopening)."""
    inspection_date: date | None = None
    executor: str | None = None
    effective: date | None = None
    """From when an entitlement step takes effect."""
    complaint_id: str | None = None
    complaint_outcome: ComplaintOutcome | None = None
    review_due_on: date | None = None
    """A complaint's review due date (registered or extended)."""
    escalated_to: str | None = None
    notification_id: str | None = None
    notification_kind: NotificationKind | None = None
    notification_channel: NotificationChannel | None = None
    delivery_state: DeliveryState | None = None
    trigger_event_id: str | None = None
    """The event a notification was sent for (e.g. which `DecisionMade`)."""


class WithdrawalOverridden(DomainEvent):
    """Intake had accepted a withdrawal, then learnt that the decision was signed before the
    case received it: the decision stands, and the application is decided, not withdrawn."""

    event_name = "application.withdrawal_overridden"
    event_version = 1

    application_id: str
    decided_at: datetime
    source_event_id: str


INTAKE_INTERNAL_EVENTS: tuple[type[DomainEvent], ...] = (CaseProgressRecorded, WithdrawalOverridden)

INTAKE_STORED_EVENTS = EventRegistry([*APPLICATION_EVENTS.classes(), *INTAKE_INTERNAL_EVENTS])
"""Every event an application stream can hold: the published ones and intake's internal ones."""

__all__ = [
    "INTAKE_INTERNAL_EVENTS",
    "INTAKE_STORED_EVENTS",
    "CaseProgressRecorded",
    "CaseStep",
    "GroundRef",
    "WithdrawalOverridden",
]
