"""The complaints API's request and answer bodies."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from shared.contracts.complaints import (
    AttachmentRef,
    Complainant,
    ComplaintChannel,
    ComplaintOutcome,
    ComplaintRegistered,
    ComplaintSubject,
    EscalationTarget,
)
from shared.contracts.event import ContractModel


class Talon(BaseModel):
    """The complainant's talon: number, who registered it and when, the reviewing body and office,
    and the date the answer is due."""

    complaint_id: str
    registration_number: str
    subject: ComplaintSubject
    application_id: str | None
    service_id: str | None
    office_id: str
    registered_by: str
    registered_at: datetime
    registered_at_office: str | None
    reviewing_body: str
    reviewing_office: str
    review_due_on: date
    review_term_basis: str
    routing_basis: str | None


def talon_of(event: ComplaintRegistered) -> Talon:
    return Talon.model_validate(event.model_dump(), from_attributes=False)


class Escalation(BaseModel):
    to: EscalationTarget
    body: str
    recorded_by: str
    recorded_at: datetime
    note: str | None = None


class ComplaintSummary(BaseModel):
    """A complaint without the complainant's data."""

    complaint_id: str
    registration_number: str
    subject: ComplaintSubject
    application_id: str | None
    service_id: str | None
    office_id: str
    region: str | None
    officer: str | None
    channel: ComplaintChannel
    registered_at_office: str | None
    registered_by: str
    registered_at: datetime
    reviewing_body: str
    reviewing_office: str
    review_due_on: date
    extended: bool
    approaching: bool
    breached: bool
    status: str
    outcome: ComplaintOutcome | None
    reviewed_by: str | None
    resolved_at: datetime | None
    on_time: bool | None
    reopen_case: bool | None
    escalations: list[Escalation]


class ComplaintView(ComplaintSummary):
    """One complaint with the complainant's data, the text and the reviewer's reasoning (the read
    is audited; only the registering and the reviewing office, auditors and administrators)."""

    complainant: Complainant
    text: str | None = Field(description="what the complainant wrote (personal data)")
    attachments: list[AttachmentRef]
    reasoning: str | None = Field(description="the reviewer's reasoning, once answered (personal data)")
    reopen_withheld: str | None = Field(
        default=None, description="why a justified complaint against a decision did not reopen the case"
    )
    review_term_basis: str
    routing_basis: str | None


class ComplaintList(BaseModel):
    items: list[ComplaintSummary]


def summary_of(row: dict[str, Any]) -> ComplaintSummary:
    return ComplaintSummary.model_validate(row)


class ExtensionRequest(ContractModel):
    reason: str = Field(
        min_length=1, max_length=2000, description="why, as the notice to the complainant says it"
    )


class ResolutionRequest(ContractModel):
    outcome: ComplaintOutcome
    reasoning: str = Field(min_length=1, max_length=20000)


class EscalationRequest(ContractModel):
    to: EscalationTarget
    body: str = Field(min_length=1, max_length=300, description="catalog id or name of the body or court")
    note: str | None = Field(default=None, max_length=2000)


class ComplaintChanged(BaseModel):
    complaint_id: str
    events: list[str]
    """The events recorded now (none for a repeated escalation)."""
    review_due_on: date | None
    outcome: ComplaintOutcome | None
    reopen_case: bool | None = None
    """Once answered: whether the answer sends the case back for a new decision."""
    reopen_withheld: str | None = None
    """Why a justified complaint against a decision does not reopen the case (the decision it
    contested is no longer in force)."""


class Figures(BaseModel):
    """Quality-indicator figures (DOMAIN.md §10); shares in percent, null when undefined."""

    from_: date = Field(alias="from")
    to: date
    service: str | None
    office: str | None
    applicants_served: int = Field(
        description="distinct applicants (a keyed hash of the ИИН) with a decision made in the period,"
        " in the region's local days"
    )
    complaints_answered: int
    justified_complaints: int
    justified_complaints_in_term: int
    justified_complaints_share: Decimal | None
    justified_complaints_resolved_in_term: Decimal | None

    model_config = {"populate_by_name": True}
