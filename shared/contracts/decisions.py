"""The decision contract: case events of the Decision service.

`DecisionMade` on `decisions.v1` is what ЦОН systems consume: the outcome, the legal grounds
(ids from the catalog), the amount and period where applicable, who signed, and the full
evaluation (rule edition, inputs, the result of every condition with its citation) so that a
decision can always be re-evaluated and shown. Inspection events travel on `inspections.v1`;
office systems also send `InspectionScheduled` / `InspectionCompleted` there as commands.

Money is a decimal string in tenge (never a float). Fields carrying personal data (names,
incomes of household members, living conditions) are `PersonalStr`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from shared.contracts.event import ContractModel, DomainEvent, PersonalStr
from shared.contracts.registry import EventRegistry

_MONEY = r"^\d{1,12}(\.\d{1,2})?$"
Money = Annotated[str, Field(pattern=_MONEY)]
"""Tenge as a non-negative decimal string, e.g. "12345.50"."""

DecisionOutcome = Literal["approved", "refused", "information"]
Employment = Literal["employed", "unemployed", "student", "pensioner", "child", "carer", "other"]
Exemption = Literal[
    "disabled",
    "inpatient_over_1_month",
    "full_time_student",
    "carer_of_disabled_group_1_2",
    "carer_of_person_over_80",
    "carer_of_child_under_7",
    "carer_of_child_under_3",
    "carer_of_disabled_child",
    "military_service",
]
TimerKind = Literal[
    "deadline_approaching",
    "deadline_breached",
    "reconfirmation_due",
    "reconfirmation_missed",
    "child_turns_18",
    "deprivation_ends",
]


class _Part(ContractModel):
    pass


class HouseholdMember(_Part):
    """One member of the applicant's family, as declared or as the inspection act records it."""

    relation: str = Field(max_length=40, description="self, spouse, child, parent, ...")
    full_name: PersonalStr | None = Field(default=None, max_length=300)
    monthly_income: PersonalStr | None = Field(
        default=None,
        pattern=_MONEY,
        description="average monthly income (tenge) in the quarter before; absent = not declared (unknown)",
    )
    birth_date: date | None = None
    able_bodied: bool = True
    employment: Employment = "other"
    registered_unemployed: bool | None = None
    exemption: Exemption | None = None
    refused_work_on: date | None = Field(
        default=None, description="date of an unjustified refusal of offered work or training"
    )
    activity: Literal["works", "studies", "serves", "registered_unemployed", "none"] | None = Field(
        default=None, description="for the child-benefit parent-activity test"
    )


class EligibilityInputs(_Part):
    """Everything a rule evaluator reads. Stored on every decision so it can be re-evaluated."""

    application_date: date
    region: str
    channel: str
    household: tuple[HouseholdMember, ...] = ()
    housing_costs: PersonalStr | None = Field(default=None, pattern=_MONEY)
    registered_unemployed: bool | None = None
    subject_birth_date: date | None = None
    amount: Money | None = Field(
        default=None, pattern=_MONEY, description="amount recorded by the specialist"
    )
    facts: dict[str, str] = Field(default_factory=dict, description="further named facts (free form)")


class ParameterUsed(_Part):
    parameter: str
    region: str
    on_date: date
    value: str
    record_region: str
    effective_from: date
    example: bool


class ConditionResult(_Part):
    id: str
    rule_id: str
    text: str
    holds: bool | None
    """True: satisfied; False: failed (the ground applies); None: an input was missing."""
    detail: str
    ground_id: str | None = None
    citation: str


class Evaluation(_Part):
    """The eligibility evaluation recorded on a decision."""

    service_id: str
    edition_id: str
    rule_ids: tuple[str, ...]
    computable: bool
    inputs: EligibilityInputs
    parameters: tuple[ParameterUsed, ...] = ()
    conditions: tuple[ConditionResult, ...] = ()
    outcome: DecisionOutcome | None
    """None when nothing computable decides (an officer records the outcome)."""
    grounds: tuple[str, ...] = ()
    amount: Money | None = None
    amount_source: Literal["formula", "specialist_input", "none"] = "none"
    citations: tuple[str, ...] = ()


class Ground(_Part):
    id: str
    text: str
    source: Literal["refusal_grounds", "termination_grounds", "rule", "fact"]
    """Catalog grounds of the edition; `rule` = a catalog rule of the edition; `fact` = a recorded fact."""


class InspectionAct(_Part):
    act_number: str = Field(min_length=1, max_length=64)
    inspected_on: date
    living_conditions: PersonalStr = Field(max_length=4000)
    household: tuple[HouseholdMember, ...] = ()
    findings: PersonalStr = Field(default="", max_length=4000)
    conclusion: Literal["need", "no_need", "not_stated"] = "not_stated"
    commission_members: tuple[PersonalStr, ...] = ()


# --------------------------------------------------------------------------- case events


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


class DeadlineApproaching(CaseEvent):
    event_name = "decision.deadline_approaching"

    office_id: str
    due_at: datetime
    share: str
    fired_at: datetime


class DeadlineBreached(CaseEvent):
    event_name = "decision.deadline_breached"

    office_id: str
    due_at: datetime
    fired_at: datetime


class TermExtended(CaseEvent):
    event_name = "decision.term_extended"

    reason: str = Field(min_length=1, max_length=2000)
    previous_due_at: datetime | None
    new_due_at: datetime
    extended_by: str
    extended_at: datetime


class EntitlementStarted(CaseEvent):
    event_name = "entitlement.started"

    service_id: str
    office_id: str
    start: date
    amount: Money | None = None
    reconfirm_by: date | None = None


class EntitlementSuspended(CaseEvent):
    event_name = "entitlement.suspended"

    ground: Ground
    effective: date
    until: date | None = None
    recorded_by: str


class EntitlementRestored(CaseEvent):
    event_name = "entitlement.restored"

    ground: Ground
    effective: date
    recorded_by: str


class EntitlementTerminated(CaseEvent):
    event_name = "entitlement.terminated"

    ground: Ground
    effective: date
    recorded_by: str


class ReconfirmationDue(CaseEvent):
    event_name = "entitlement.reconfirmation_due"

    due_by: date
    fired_at: datetime


class ReconfirmationReceived(CaseEvent):
    event_name = "entitlement.reconfirmation_received"

    received_on: date
    next_due_by: date
    recorded_by: str


class ApplicationReopened(CaseEvent):
    """An upheld complaint puts the case back to review with a new deadline (history is kept)."""

    event_name = "decision.application_reopened"

    complaint_id: str
    reason: str
    reopened_by: str
    reopened_at: datetime
    new_due_at: datetime | None


DECISION_EVENTS = EventRegistry(
    [
        CaseOpened,
        ExecutorAssigned,
        DocumentsChecked,
        InspectionScheduled,
        InspectionCompleted,
        DecisionDrafted,
        DecisionReturnedForRework,
        DecisionMade,
        CaseFlagged,
        DeadlineApproaching,
        DeadlineBreached,
        TermExtended,
        EntitlementStarted,
        EntitlementSuspended,
        EntitlementRestored,
        EntitlementTerminated,
        ReconfirmationDue,
        ReconfirmationReceived,
        ApplicationReopened,
    ]
)
"""Every event of a case stream."""

INSPECTION_COMMANDS = EventRegistry([InspectionScheduled, InspectionCompleted])
"""What office systems may send on `inspections.v1`."""

INSPECTION_TOPIC_EVENTS = frozenset({InspectionScheduled.event_name, InspectionCompleted.event_name})
INTERNAL_EVENTS = frozenset({CaseOpened.event_name, DocumentsChecked.event_name, DecisionDrafted.event_name})
"""Events that stay inside the service (the relay does not publish them): the household as
declared, the document check, and unsigned drafts."""

__all__ = [
    "DECISION_EVENTS",
    "INSPECTION_COMMANDS",
    "INSPECTION_TOPIC_EVENTS",
    "INTERNAL_EVENTS",
    "ApplicationReopened",
    "CaseEvent",
    "CaseFlagged",
    "CaseOpened",
    "ConditionResult",
    "DeadlineApproaching",
    "DeadlineBreached",
    "DecisionDrafted",
    "DecisionMade",
    "DecisionOutcome",
    "DecisionReturnedForRework",
    "DocumentsChecked",
    "EligibilityInputs",
    "EntitlementRestored",
    "EntitlementStarted",
    "EntitlementSuspended",
    "EntitlementTerminated",
    "Evaluation",
    "ExecutorAssigned",
    "Ground",
    "HouseholdMember",
    "InspectionAct",
    "InspectionCompleted",
    "InspectionScheduled",
    "ParameterUsed",
    "ReconfirmationDue",
    "ReconfirmationReceived",
    "TermExtended",
    "TimerKind",
]
