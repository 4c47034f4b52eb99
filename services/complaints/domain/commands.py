"""Commands of the complaints service besides `FileComplaint` (a contract command, also sent on
`complaints.submissions.v1`). Plain data; the policy table says who may issue each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shared.contracts.complaints import ComplaintOutcome, EscalationTarget


@dataclass(frozen=True)
class ExtendReview:
    """Extend the review term (once), with notice to the complainant."""

    complaint_id: str
    reason: str


@dataclass(frozen=True)
class ResolveComplaint:
    complaint_id: str
    outcome: ComplaintOutcome
    reasoning: str


@dataclass(frozen=True)
class RecordEscalation:
    complaint_id: str
    to: EscalationTarget
    body: str
    note: str | None = None


@dataclass(frozen=True)
class FireReviewTimer:
    """A due review timer, fired by the scheduler (the service itself)."""

    timer_id: int
    complaint_id: str
    kind: str
    worker: str


@dataclass(frozen=True)
class ReadComplaint:
    """Read one complaint with the complainant's data (a personal-data read: audited)."""

    complaint_id: str


@dataclass(frozen=True)
class ReadComplaints:
    """Lists and queues without personal data (the policy's roles; office scope in the query)."""


@dataclass(frozen=True)
class ReadFigures:
    """The quality-indicator figures of complaints."""

    start: date
    end: date
    service_id: str | None
    office_id: str | None
