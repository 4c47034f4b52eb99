"""The complaints contract: `FileComplaint` commands on `complaints.submissions.v1`, and the life
of a complaint on `complaints.v1`.

Every standard with a complaints section gives the applicant the right to complain about a
decision, a refusal at intake, or an official's action or inaction; the complaint is its own case
(`ComplaintRegistered` → deadline events → `ComplaintResolved`, with `ComplaintEscalated` when it
goes to a higher body or to court). The complainant's identity and contacts are personal data
(`PersonalStr`): they travel on `complaints.v1` because the notification service must answer the
complainant, and no ЦОН subscriber's topic carries them.

The complaints service owns this module: it may add events and optional fields; the fields the
other services read (decision: `ComplaintResolved.reopen_case` and `contested_decision_at`, the
`decided_at` of the decision the complaint contested - reopen only while that decision is in
force; intake and notification: the registration and the outcome) keep their meaning. The text
of the complaint and the reviewer's reasoning are personal data like the complainant.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field, field_validator

from shared.contracts.applications import Contacts, Language
from shared.contracts.event import ContractModel, DomainEvent, PersonalStr
from shared.contracts.registry import EventRegistry

ComplaintSubject = Literal["decision", "intake_refusal", "official_action", "official_inaction"]
"""What the complaint is about: a signed decision, a refusal at intake, or what an official did
(or failed to do)."""

ComplaintChannel = Literal["in_person", "post", "electronic"]
ComplaintOutcome = Literal["upheld", "partly_upheld", "rejected"]
EscalationTarget = Literal["higher_body", "court"]

_OFFICE = r"^[a-z0-9][a-z0-9_-]{0,62}$"


class Complainant(ContractModel):
    """Who complains: the applicant or their representative."""

    iin: PersonalStr | None = Field(default=None, max_length=12)
    full_name: PersonalStr = Field(min_length=1, max_length=300)
    contacts: Contacts = Field(default_factory=Contacts)
    preferred_language: Language = "kk"


class AttachmentRef(ContractModel):
    """An attachment by reference (a document store key or a scanned page's id), never its bytes."""

    reference: str = Field(min_length=1, max_length=500)
    title: str | None = Field(default=None, max_length=300)


class FileComplaint(DomainEvent):
    """Command: file a complaint (HTTP body of `POST /v1/complaints`, or a Kafka command)."""

    event_name = "complaints.file_complaint"
    event_version = 1

    idempotency_key: str = Field(min_length=1, max_length=128)
    subject: ComplaintSubject
    application_id: str | None = Field(
        default=None,
        max_length=64,
        description="the application concerned (required about a decision or refusal)",
    )
    service_id: str | None = Field(default=None, max_length=80)
    office_id: str = Field(pattern=_OFFICE, description="the office whose act is contested")
    officer: str | None = Field(default=None, max_length=128, description="the official, where known")
    channel: ComplaintChannel
    received_at_office: str | None = Field(
        default=None, pattern=_OFFICE, description="where it was handed in (default: the token's office)"
    )
    complainant: Complainant
    text: PersonalStr = Field(min_length=1, max_length=20000)
    attachments: list[AttachmentRef] = Field(default_factory=list, max_length=50)
    received_at: datetime | None = Field(
        default=None,
        description="when the office received the complaint (with a time zone; not in the future"
        " beyond a small clock skew); the registration instant and the start of the review term."
        " Default: when the complaints service registers it",
    )

    @field_validator("received_at")
    @classmethod
    def _with_time_zone(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.utcoffset() is None:
            raise ValueError("must have a time zone (an instant, e.g. 2025-03-03T10:00:00+05:00)")
        return value


class ComplaintRegistered(DomainEvent):
    """The complaint was registered: the complainant's talon (number, who, when, the reviewing
    body and the review due date)."""

    event_name = "complaint.registered"
    event_version = 1

    complaint_id: str
    registration_number: str
    subject: ComplaintSubject
    application_id: str | None
    service_id: str | None
    office_id: str
    region: str | None
    officer: str | None = None
    channel: ComplaintChannel
    registered_by: str
    registered_at: datetime
    reviewing_body: str
    """Catalog id of the body the complaint is routed to (e.g. `oblast_department`)."""
    reviewing_office: str
    """The office of that body whose reviewers decide it."""
    review_due_on: date
    review_term_basis: str
    """Where the term comes from: parameter id, its value and citation."""
    review_due_at: datetime | None = None
    """The instant the term runs out (end of `review_due_on` in the reviewing region's time)."""
    registered_at_office: str | None = None
    """The office that registered the complaint (the talon's numbering office)."""
    routing_basis: str | None = None
    """The routing rule's citation (catalog `complaint_routing.yaml`)."""
    complainant: Complainant
    attachments: list[AttachmentRef] = Field(default_factory=list)
    idempotency_key: str
    text: PersonalStr | None = None
    """What the complainant wrote (None only on events recorded before it was kept)."""
    contested_decision_at: datetime | None = None
    """For a complaint about a decision: `decided_at` of the `DecisionMade` in force when the
    complaint was registered - the decision it contests."""


class ComplaintReviewDeadlineApproaching(DomainEvent):
    event_name = "complaint.review_deadline_approaching"
    event_version = 1

    complaint_id: str
    application_id: str | None
    reviewing_office: str
    review_due_on: date
    fired_at: datetime


class ComplaintReviewDeadlineBreached(DomainEvent):
    event_name = "complaint.review_deadline_breached"
    event_version = 1

    complaint_id: str
    application_id: str | None
    reviewing_office: str
    review_due_on: date
    fired_at: datetime


class ComplaintReviewExtended(DomainEvent):
    """The review term was extended, with notice to the complainant (once, where allowed)."""

    event_name = "complaint.review_extended"
    event_version = 1

    complaint_id: str
    application_id: str | None
    previous_due_on: date
    review_due_on: date
    review_due_at: datetime | None = None
    reason: str
    extended_by: str
    extended_at: datetime


class ComplaintResolved(DomainEvent):
    """The reviewing body answered: upheld, partly upheld or rejected, with its reasoning."""

    event_name = "complaint.resolved"
    event_version = 1

    complaint_id: str
    application_id: str | None
    subject: ComplaintSubject
    service_id: str | None
    office_id: str
    reviewing_office: str
    outcome: ComplaintOutcome
    reasoning: PersonalStr
    reviewed_by: str
    resolved_at: datetime
    on_time: bool
    reopen_case: bool
    """True when an upheld (or partly upheld) complaint against a decision sends the case back
    for a new decision: the decision service reopens it (`ApplicationReopened`). Only while the
    contested decision (`contested_decision_at`) is still the one in force."""
    contested_decision_at: datetime | None = None
    """`decided_at` of the decision the complaint contested (as `ComplaintRegistered`); the
    decision service reopens only if its decision in force was made at this instant."""
    reopen_withheld: str | None = None
    """Why a justified complaint against a decision does not reopen the case (the contested
    decision is no longer in force); None otherwise."""


class ComplaintEscalated(DomainEvent):
    """The complaint went on to a higher body or to court (recorded, not decided, here)."""

    event_name = "complaint.escalated"
    event_version = 1

    complaint_id: str
    application_id: str | None
    to: EscalationTarget
    body: str
    """Catalog id or name of the body or court."""
    recorded_by: str
    recorded_at: datetime
    note: str | None = None


COMPLAINT_COMMANDS = EventRegistry([FileComplaint])
"""Commands accepted on `complaints.submissions.v1`."""

COMPLAINT_EVENTS = EventRegistry(
    [
        ComplaintRegistered,
        ComplaintReviewDeadlineApproaching,
        ComplaintReviewDeadlineBreached,
        ComplaintReviewExtended,
        ComplaintResolved,
        ComplaintEscalated,
    ]
)
"""Events published on `complaints.v1`."""

COMPLAINT_INTERNAL_EVENTS: tuple[type[DomainEvent], ...] = ()
"""Events the complaints service stores and never publishes."""
