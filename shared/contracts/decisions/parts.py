"""The parts decision events are made of: the household, the inputs a rule evaluator reads,
the recorded evaluation (parameters used, every condition with its citation), the legal grounds
and the inspection act.

Money is a decimal string in tenge (never a float). Fields carrying personal data (names,
incomes of household members, living conditions) are `PersonalStr`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from shared.contracts.event import ContractModel, PersonalStr

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
Conclusion = Literal["need", "no_need", "not_stated"]
"""The district commission's conclusion on the need for assistance (inspection act)."""


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
    placed_on: date | None = Field(
        default=None,
        description="date the member was placed in a job or training after the refusal (restores TSA)",
    )
    cared_for_birth_date: date | None = Field(
        default=None,
        description="birth date of the person a carer exemption is claimed for, when not in the household",
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
    commission_conclusion: Conclusion | None = Field(
        default=None, description="the district commission's conclusion in the inspection act; None: no act"
    )


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


class IncomeCounting(_Part):
    """How an income test counted the household's income: the counting rules and period in force,
    whose income was counted and against which threshold."""

    condition_id: str
    rule_id: str
    method_parameter: str | None = Field(
        description="the parameter naming the income-counting rules applied (its value is in `parameters`)"
    )
    period: str | None = Field(description="the period whose income is counted, as the edition states it")
    period_start: date | None = None
    period_end: date | None = None
    members_counted: int
    members_undeclared: int
    total: PersonalStr | None = Field(default=None, pattern=_MONEY)
    threshold_parameter: str
    equal_is_eligible: bool


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
    income_counting: tuple[IncomeCounting, ...] = ()
    """The income-counting inputs each income test used."""


class Ground(_Part):
    id: str
    text: str
    """English summary (catalog grounds end with the seed lines they come from)."""
    source: Literal["refusal_grounds", "termination_grounds", "rule", "fact"]
    """Catalog grounds of the edition; `rule` = a catalog rule of the edition; `fact` = a recorded fact."""
    text_kk: str | None = Field(
        default=None,
        description="the ground as the legal act states it in Kazakh (a quote of the catalog's seed "
        "lines), for letters to applicants; absent for rules, facts and grounds the seeds give no "
        "Kazakh wording for",
    )


class InspectionAct(_Part):
    act_number: str = Field(min_length=1, max_length=64)
    inspected_on: date
    living_conditions: PersonalStr = Field(max_length=4000)
    household: tuple[HouseholdMember, ...] = ()
    findings: PersonalStr = Field(default="", max_length=4000)
    conclusion: Conclusion = "not_stated"
    commission_members: tuple[PersonalStr, ...] = ()
