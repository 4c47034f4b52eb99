"""The decision API's request and answer bodies, and how a case state becomes an answer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.decision.domain.model import CaseState
from shared.contracts.decisions import (
    CaseFlagged,
    DecisionDrafted,
    DecisionMade,
    DecisionOutcome,
    HouseholdMember,
    InspectionAct,
)
from shared.contracts.event import ContractModel
from shared.http.problems import Problem, problem_type

MONEY = r"^\d{1,12}(\.\d{1,2})?$"


class AssignBody(ContractModel):
    executor: str = Field(min_length=1, max_length=200)


class DocumentsBody(ContractModel):
    complete: bool
    notes: str = Field(default="", max_length=4000)


class ScheduleBody(ContractModel):
    inspection_date: date
    inspecting_body: str = Field(default="district_commission", max_length=80)
    communicated_to_applicant: bool = True


class InspectionBody(ContractModel):
    act: InspectionAct


class DraftBody(ContractModel):
    household: list[HouseholdMember] | None = Field(default=None, max_length=50)
    housing_costs: str | None = Field(default=None, pattern=MONEY)
    registered_unemployed: bool | None = None
    subject_birth_date: date | None = None
    amount: str | None = Field(default=None, pattern=MONEY)
    period_start: date | None = None
    period_end: date | None = None
    outcome: DecisionOutcome | None = None
    grounds: list[str] = Field(default_factory=list, max_length=20)
    facts: dict[str, str] = Field(default_factory=dict)


class ReasonBody(ContractModel):
    reason: str = Field(min_length=1, max_length=2000)


class FactBody(ContractModel):
    fact: Literal[
        "death",
        "moved_away",
        "full_state_care",
        "false_information",
        "child_turned_18",
        "refused_work",
        "placed_in_job",
        "reconfirmation_received",
    ]
    on: date
    ground_id: str | None = Field(default=None, max_length=120, description="catalog ground, if several fit")


class ReopenBody(ContractModel):
    complaint_id: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2000)


class CaseStatusView(BaseModel):
    """Where a case stands, without personal data (no household, incomes, draft or evaluation):
    what the desk, ЦОН operators and administrators see."""

    application_id: str
    registration_number: str | None
    service_id: str
    office_id: str
    channel: str
    status: str
    due_at: datetime | None
    breached: bool
    outcome: DecisionOutcome | None = Field(description="once decided: approved or refused")
    decided_at: datetime | None


class CaseView(BaseModel):
    """The whole case, for the roles that handle or audit it (a read of personal data: audited)."""

    application_id: str
    registration_number: str | None
    service_id: str
    edition_id: str
    office_id: str
    channel: str
    status: str
    version: int
    executor: str | None
    due_at: datetime | None
    inspection_required: Literal["required", "conditional", "none"]
    signature_required: bool
    inspection_date: date | None
    inspection_completed: bool
    draft: DecisionDrafted | None
    decision: DecisionMade | None
    flags: list[CaseFlagged]
    breached: bool


class FlagSummary(BaseModel):
    reason: str
    parameter: str | None = None
    message: str


class OverdueCase(BaseModel):
    """A case of the office's overdue worklist (no personal data)."""

    application_id: str
    registration_number: str | None
    service_id: str
    status: str
    executor: str | None
    received_at: datetime
    due_at: datetime | None
    breached: bool
    flags: list[FlagSummary]


class CommandAnswer(BaseModel):
    events: list[str]
    case: CaseView


class HistoryEntry(BaseModel):
    version: int
    type: str
    recorded_at: datetime
    data: dict[str, Any]


class Reevaluation(BaseModel):
    reproduced: bool
    reason: str | None = None
    recorded: dict[str, Any]
    reevaluated: dict[str, Any] | None = None


def case_view(state: CaseState) -> CaseView:
    opened = state.opened
    assert opened is not None
    return CaseView(
        application_id=state.application_id,
        registration_number=opened.registration_number,
        service_id=opened.service_id,
        edition_id=opened.edition_id,
        office_id=opened.office_id,
        channel=opened.channel,
        status=state.status.value,
        version=state.version,
        executor=state.executor,
        due_at=state.due_at,
        inspection_required=opened.inspection,
        signature_required=opened.signature_required,
        inspection_date=state.inspection_date,
        inspection_completed=state.inspection is not None,
        draft=state.draft,
        decision=state.decision,
        flags=list(state.flags),
        breached=state.breached,
    )


def status_view(state: CaseState) -> CaseStatusView:
    opened = state.opened
    assert opened is not None
    decision = state.decision
    return CaseStatusView(
        application_id=state.application_id,
        registration_number=opened.registration_number,
        service_id=opened.service_id,
        office_id=opened.office_id,
        channel=opened.channel,
        status=state.status.value,
        due_at=state.due_at,
        breached=state.breached,
        outcome=decision.outcome if decision else None,
        decided_at=decision.decided_at if decision else None,
    )


def flagged_problem(flag: CaseFlagged) -> Problem:
    """A command that flagged the case instead of completing (a parameter not in force, ...)."""
    return Problem(
        409,
        "Case flagged",
        flag.message,
        type_=problem_type(flag.reason),
        parameter=flag.parameter,
        region=flag.region,
        on_date=flag.on_date.isoformat() if flag.on_date else None,
    )
