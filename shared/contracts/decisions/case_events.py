"""Events of a case's way to its decision: opened, assigned, documents checked, inspected,
drafted, submitted for signature, returned, decided, flagged, reopened after a complaint, and
closed by a withdrawal.
Inspection events travel on `inspections.v1`, where office systems also send them as commands.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from shared.contracts.decisions.parts import (
    DecisionOutcome,
    Evaluation,
    Ground,
    HouseholdMember,
    InspectionAct,
    Money,
)
from shared.contracts.event import DomainEvent


class CaseEvent(DomainEvent):
    application_id: str


class CaseOpened(CaseEvent):
    """The decision service took over a submitted application (internal; not published)."""

    event_name = "decision.case_opened"

    registration_number: str
    service_id: str
    subtype: str | None = None
    edition_id: str
    channel: str
    office_id: str
    region: str
    received_by: str | None = None
    """Who received the application (a ЦОН operator reads the status of their own only);
    None in cases opened before it was recorded."""
    received_at: datetime
    due_at: datetime | None
    household: tuple[HouseholdMember, ...] = ()
    categories: tuple[str, ...] = ()
    automated: bool
    assignment_required: bool
    inspection: Literal["required", "conditional", "none"]
    signature_required: bool


class ExecutorAssigned(CaseEvent):
    event_name = "decision.executor_assigned"

    executor: str
    assigned_by: str
    assigned_at: datetime


class DocumentsChecked(CaseEvent):
    event_name = "decision.documents_checked"

    complete: bool
    notes: str = ""
    checked_by: str
    checked_at: datetime


class InspectionScheduled(CaseEvent):
    """The inspection date, communicated to the applicant. Also a command on `inspections.v1`."""

    event_name = "inspection.scheduled"

    office_id: str
    inspection_date: date
    inspecting_body: str = "district_commission"
    communicated_to_applicant: bool = True
    scheduled_by: str
    scheduled_at: datetime


class InspectionCompleted(CaseEvent):
    """The inspection act. Also a command on `inspections.v1` from office systems."""

    event_name = "inspection.completed"

    office_id: str
    act: InspectionAct
    recorded_by: str
    recorded_at: datetime


class DecisionDrafted(CaseEvent):
    event_name = "decision.drafted"

    outcome: DecisionOutcome
    result_id: str | None
    grounds: tuple[Ground, ...] = ()
    amount: Money | None = None
    period_start: date | None = None
    period_end: date | None = None
    evaluation: Evaluation
    drafted_by: str
    drafted_at: datetime


class DecisionSubmittedForSignature(CaseEvent):
    """The executor's draft went to the head for signature: the case awaits the signature. Carries
    no part of the draft (its outcome, amount and evaluation stay internal until it is signed and
    `DecisionMade` publishes them); published so the case's status can be followed and rebuilt
    from the topics."""

    event_name = "decision.submitted_for_signature"

    submitted_by: str
    submitted_at: datetime


class DecisionReturnedForRework(CaseEvent):
    event_name = "decision.returned_for_rework"

    reason: str
    returned_by: str
    returned_at: datetime


class DecisionMade(CaseEvent):
    """The lawful decision (what ЦОН systems consume on `decisions.v1`)."""

    event_name = "decision.made"

    service_id: str
    edition_id: str
    office_id: str
    region: str
    channel: str
    outcome: DecisionOutcome
    result_id: str | None
    grounds: tuple[Ground, ...] = ()
    amount: Money | None = None
    currency: Literal["KZT"] = "KZT"
    period_start: date | None = None
    period_end: date | None = None
    automated: bool
    drafted_by: str | None
    signed_by: str | None
    """The head who signed; None where the catalog requires no signature (or automated)."""
    decided_at: datetime
    due_at: datetime | None
    on_time: bool | None
    evaluation: Evaluation


class CaseFlagged(CaseEvent):
    """The case cannot proceed automatically (missing parameter value, no computable term, ...)."""

    event_name = "decision.case_flagged"

    reason: Literal["parameter_not_in_force", "no_computable_term", "no_edition", "input_missing", "other"]
    parameter: str | None = None
    region: str | None = None
    on_date: date | None = None
    message: str
    flagged_at: datetime


class ApplicationReopened(CaseEvent):
    """An upheld complaint puts the case back to review with a new deadline (history is kept)."""

    event_name = "decision.application_reopened"

    complaint_id: str
    reason: str
    reopened_by: str
    reopened_at: datetime
    new_due_at: datetime | None


class CaseWithdrawn(CaseEvent):
    """The applicant withdrew the application (`ApplicationWithdrawn` on `applications.v1`) before
    any decision was signed: the case is closed, its timers cancelled, and it is never decided."""

    event_name = "decision.case_withdrawn"

    withdrawn_by: str
    """Who took the withdrawal at intake."""
    withdrawn_at: datetime
    closed_at: datetime


class WithdrawalTooLate(CaseEvent):
    """A withdrawal reached a case whose decision was already signed: the decision stands (the
    case's order is authoritative), and intake shows the application as decided."""

    event_name = "decision.withdrawal_too_late"

    withdrawn_by: str
    withdrawn_at: datetime
    decided_at: datetime
    outcome: DecisionOutcome
