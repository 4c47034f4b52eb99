"""The answer of `GET /v1/applications/summary` (the operations console's overview)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from services.intake.domain.status import ApplicationStatus


class StatusCount(BaseModel):
    service_id: str
    status: ApplicationStatus
    count: int


class OfficeDeadlines(BaseModel):
    office_id: str
    open: int
    """Awaiting a decision."""
    overdue: int
    """Open and past the due date."""
    approaching: int
    """Open and due within `approaching_days`."""


class DecidedInTerm(BaseModel):
    service_id: str
    decided: int
    decided_in_term: int
    """Decided by the due date (the quality indicator "served within the set term")."""


class RecentDecision(BaseModel):
    application_id: str
    registration_number: str | None
    service_id: str
    office_id: str
    outcome: str | None
    decided_at: datetime
    due_at: datetime | None


class ApplicationSummary(BaseModel):
    approaching_days: int
    by_status: list[StatusCount]
    offices: list[OfficeDeadlines]
    decided_in_term: list[DecidedInTerm]
    recent_decisions: list[RecentDecision]
