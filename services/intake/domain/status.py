"""The status clerks, ЦОН operators and applicants see: the application's whole life (pure).

Intake's own events set the first status (submitted, refused at intake, withdrawn); after that
the case's steps in the decision service move it (`CaseProgressRecorded`, one per published
event intake consumed). A step maps to a status through one table, `STEP_STATUS`: a service that
starts publishing new steps (notifications, complaints) adds lines there and a translation of its
events in `entrypoints/kafka_case_progress.py`; nothing else changes.

Ordering. Intake receives the case's steps on two topics (`inspections.v1`, `decisions.v1`)
whose relative order is not kept, so a step moves the status only if it is not older than the
step that set the current one, by the time the decision service recorded it (`ce_time`); steps
recorded in one transaction (one time) count in the order of the life (`STAGE`). Times of the
two services are never compared: any case step supersedes "submitted", and intake's own final
statuses (refused at intake, withdrawn) are not moved by case steps; a withdrawal the case
received too late is overridden explicitly (`WithdrawalOverridden`, see `application.py`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from shared.contracts.application_progress import CaseStep


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    """Accepted at intake (a talon issued); the case waits for its executor."""
    REJECTED = "rejected"
    """Refused at intake (documents missing or invalid): never reached a case."""
    WITHDRAWN = "withdrawn"
    """Withdrawn by the applicant before a decision was signed."""
    UNDER_REVIEW = "under_review"
    """An executor is assigned and reviews the case."""
    INSPECTION_SCHEDULED = "inspection_scheduled"
    INSPECTION_COMPLETED = "inspection_completed"
    AWAITING_SIGNATURE = "awaiting_signature"
    """The executor's draft awaits the head's signature (a return for rework: under review again)."""
    DECIDED = "decided"
    """Signed: approved, refused or informed (the view shows outcome, date and grounds)."""
    ENTITLEMENT_ACTIVE = "entitlement_active"
    ENTITLEMENT_SUSPENDED = "entitlement_suspended"
    ENTITLEMENT_TERMINATED = "entitlement_terminated"
    REOPENED = "reopened"
    """An upheld complaint set the decision aside: under review again, with a new term."""


S = ApplicationStatus

OPEN_STATUSES = frozenset(
    {
        S.SUBMITTED,
        S.UNDER_REVIEW,
        S.INSPECTION_SCHEDULED,
        S.INSPECTION_COMPLETED,
        S.AWAITING_SIGNATURE,
        S.REOPENED,
    }
)
"""Awaiting a decision: only these can be overdue."""

INTAKE_FINAL = frozenset({S.REJECTED, S.WITHDRAWN})
"""Set by intake itself; no case step moves them (a late decision overrides a withdrawal
explicitly)."""

STEP_STATUS: dict[CaseStep, ApplicationStatus | None] = {
    "executor_assigned": S.UNDER_REVIEW,
    "inspection_scheduled": S.INSPECTION_SCHEDULED,
    "inspection_completed": S.INSPECTION_COMPLETED,
    "submitted_for_signature": S.AWAITING_SIGNATURE,
    "returned_for_rework": S.UNDER_REVIEW,
    "decision_made": S.DECIDED,
    "term_extended": None,
    "entitlement_started": S.ENTITLEMENT_ACTIVE,
    "entitlement_suspended": S.ENTITLEMENT_SUSPENDED,
    "entitlement_restored": S.ENTITLEMENT_ACTIVE,
    "entitlement_terminated": S.ENTITLEMENT_TERMINATED,
    "reopened": S.REOPENED,
    "case_withdrawn": S.WITHDRAWN,
    "withdrawal_too_late": None,
    # A complaint does not change the application's status by itself: the view lists it with its
    # outcome, and an upheld one reopens the case (the decision service's `reopened` step).
    "complaint_registered": None,
    "complaint_review_extended": None,
    "complaint_resolved": None,
    "complaint_escalated": None,
    # What the applicant was told, and whether the result was collected: shown beside the status.
    "notification_state_changed": None,
    "result_collected": None,
    "result_uncollected": None,
}
"""Which status each step leads to (None: the step is history only; the status stays)."""

STAGE: dict[ApplicationStatus, int] = {
    status: i
    for i, status in enumerate(
        (
            S.SUBMITTED,
            S.UNDER_REVIEW,
            S.INSPECTION_SCHEDULED,
            S.INSPECTION_COMPLETED,
            S.AWAITING_SIGNATURE,
            S.DECIDED,
            S.ENTITLEMENT_ACTIVE,
            S.ENTITLEMENT_SUSPENDED,
            S.ENTITLEMENT_TERMINATED,
            S.REOPENED,
            S.WITHDRAWN,
            S.REJECTED,
        )
    )
}
"""The order of the life: decides between steps the decision service recorded at one time."""


class StatusPoint(NamedTuple):
    """A status and when it was set (a tuple: a replay makes one per case step it folds, and a
    frozen dataclass costs several times as much to build)."""

    status: ApplicationStatus
    at: datetime | None = None
    """When the case step that set it was recorded; None for a status intake set itself."""

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


def next_status(current: StatusPoint, step: CaseStep, occurred_at: datetime) -> StatusPoint:
    """The status after a case step recorded at `occurred_at` (see the module's ordering rule)."""
    new = STEP_STATUS[step]
    if new is None or current.status in INTAKE_FINAL:
        return current
    if current.at is not None and (occurred_at, STAGE[new]) < (current.at, STAGE[current.status]):
        return current  # an older step that arrived late on the other topic
    return StatusPoint(new, occurred_at)
