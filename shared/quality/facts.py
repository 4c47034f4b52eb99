"""What the quality indicators need from the event log, as small plain records.

The reader adapter (`shared.quality.pg_reader`) turns stored events into these facts; tests build
them by hand. Applicants appear only as a pseudonym (`applicant_key`, a salted hash made inside
PostgreSQL for one report run): no ИИН, name or contact ever reaches this package.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

ReworkKind = Literal["documents_supplemented", "documents_incomplete", "returned_for_rework"]
JUSTIFIED_OUTCOMES: frozenset[str] = frozenset({"upheld", "partly_upheld"})
"""Complaint outcomes that count as justified (the reviewing body found for the complainant)."""


@dataclass(frozen=True, slots=True)
class Submission:
    """`ApplicationSubmitted` (intake): the application was accepted and a talon issued."""

    application_id: str
    service_id: str
    office_id: str
    region: str | None
    edition_id: str | None
    received_at: datetime
    applicant_key: str | None


@dataclass(frozen=True, slots=True)
class IntakeRefusal:
    """`ApplicationRejectedAtIntake` (intake): documents missing or invalid, no talon."""

    service_id: str
    office_id: str
    rejected_at: datetime
    applicant_key: str | None
    """None where the refusal could not name the applicant (a malformed submission)."""


@dataclass(frozen=True, slots=True)
class Rework:
    """A sign that an accepted application's documents were not right the first time:
    `DocumentsSupplemented` (intake), `DocumentsChecked{complete: false}` or
    `DecisionReturnedForRework` (decision)."""

    application_id: str
    kind: ReworkKind


@dataclass(frozen=True, slots=True)
class Decision:
    """`DecisionMade` (decision): the lawful decision, judged against its (possibly extended) term."""

    application_id: str
    service_id: str
    office_id: str
    region: str | None
    edition_id: str | None
    decided_at: datetime
    due_at: datetime | None
    """The term in force when the decision was made (extensions and reopenings included);
    None where the catalog gives no computable term."""
    applicant_key: str | None
    """The applicant of the decided application (from intake's `ApplicationSubmitted`)."""


@dataclass(frozen=True, slots=True)
class ComplaintFiled:
    """`ComplaintRegistered` (complaints): the complaint and the last day of its review term."""

    complaint_id: str
    service_id: str | None
    office_id: str
    """The office whose act is contested."""
    region: str | None
    review_due_on: date
    """The last day of the review term (a local day of the reviewing body)."""


@dataclass(frozen=True, slots=True)
class ComplaintTermExtended:
    """`ComplaintReviewExtended` (complaints): the review term's new last day."""

    complaint_id: str
    review_due_on: date


@dataclass(frozen=True, slots=True)
class ComplaintAnswer:
    """`ComplaintResolved` (complaints): the reviewing body's answer."""

    complaint_id: str
    service_id: str | None
    office_id: str
    """The office whose act was contested."""
    region: str | None
    """The region of the complaint (from its `ComplaintRegistered`)."""
    outcome: str
    resolved_at: datetime
    on_time: bool
    """Answered no later than the review term in force (extension included), as the complaints
    service judged it when it recorded the answer."""

    @property
    def justified(self) -> bool:
        return self.outcome in JUSTIFIED_OUTCOMES


Fact = (
    Submission | IntakeRefusal | Rework | Decision | ComplaintFiled | ComplaintTermExtended | ComplaintAnswer
)
