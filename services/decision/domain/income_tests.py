"""The household-income conditions: per-capita income against the poverty line or the food-basket
cost (compared exactly, total against threshold x members), and housing costs against a share
of the family's income. An undeclared income leaves the condition unknown, never zero. Each
per-capita test records how it counted income (`IncomeCounting`): the counting rules in force
(the rule's `aggregate_income_rules` parameter), the period the edition names, the members.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from services.decision.domain.rule_context import ParameterMissing, RuleContext
from shared.catalog.deadlines import add_months
from shared.catalog.vocabulary import IncomePeriod
from shared.contracts.decisions import (
    ConditionResult,
    HouseholdMember,
    IncomeCounting,
)

INCOME_RULES = "aggregate_income_rules"
"""The parameter naming the income-counting rules (the orders the seeds cite, e.g. 237-ө)."""
QUARTER_MONTHS = 3


def money(value: str) -> Decimal:
    return Decimal(value)


def household_total(members: tuple[HouseholdMember, ...]) -> Decimal:
    return sum((money(m.monthly_income) for m in members if m.monthly_income is not None), Decimal(0))


def income_period(period: IncomePeriod | None, on: date) -> tuple[date | None, date | None]:
    """The first and last day of the period whose income is counted for an application on `on`."""
    if period is IncomePeriod.PRECEDING_QUARTER:
        quarter_start = date(on.year, (on.month - 1) // QUARTER_MONTHS * QUARTER_MONTHS + 1, 1)
        return add_months(quarter_start, -QUARTER_MONTHS), quarter_start - timedelta(days=1)
    return None, None


def _counting(
    ctx: RuleContext, parameter: str, equal_eligible: bool, members: tuple[HouseholdMember, ...]
) -> IncomeCounting:
    rule = ctx.rule
    method = INCOME_RULES if rule is not None and INCOME_RULES in rule.parameters else None
    if method is not None:
        ctx.parameter(method)  # recorded in the evaluation's parameters: which rules were in force
    period = rule.income_period if rule is not None else None
    start, end = income_period(period, ctx.inputs.application_date)
    declared = [m for m in members if m.monthly_income is not None]
    return IncomeCounting(
        condition_id="per_capita_income",
        rule_id=ctx.key,
        method_parameter=method,
        period=period.value if period is not None else None,
        period_start=start,
        period_end=end,
        members_counted=len(members),
        members_undeclared=len(members) - len(declared),
        total=str(household_total(members)) if members and len(declared) == len(members) else None,
        threshold_parameter=parameter,
        equal_is_eligible=equal_eligible,
    )


def _per_capita_test(
    ctx: RuleContext, parameter: str, default_equal_eligible: bool, grounds: tuple[str, ...]
) -> list[ConditionResult]:
    members = ctx.inputs.household
    threshold = ctx.decimal(parameter)
    eligible_on_equality = ctx.equality_eligible(default_equal_eligible)
    ctx.income.append(_counting(ctx, parameter, eligible_on_equality, members))
    text = f"average monthly per-capita income {'<=' if eligible_on_equality else '<'} {parameter}"
    if not members:
        return [ctx.result("per_capita_income", text, None, "household not recorded", grounds)]
    undeclared = [f"member {i} ({m.relation})" for i, m in enumerate(members) if m.monthly_income is None]
    if undeclared:
        detail = "income not declared: " + ", ".join(undeclared)
        return [ctx.result("per_capita_income", text, None, detail, grounds)]
    total = household_total(members)
    n = len(members)
    # Compare total with threshold x members: exact, no rounding of the per-capita figure.
    limit = threshold * n
    holds = total <= limit if eligible_on_equality else total < limit
    per_capita = (total / n).quantize(Decimal("0.01"))
    detail = f"per-capita {per_capita} ({total} / {n}) vs {parameter} {threshold}"
    return [ctx.result("per_capita_income", text, holds, detail, grounds)]


def tsa_income(ctx: RuleContext) -> list[ConditionResult]:
    return _per_capita_test(ctx, "poverty_line", True, ("income_above_poverty_line",))


def child_benefit_income(ctx: RuleContext) -> list[ConditionResult]:
    return _per_capita_test(ctx, "food_basket_cost", False, ("income_above_food_basket",))


def housing_costs(ctx: RuleContext) -> list[ConditionResult]:
    share = ctx.decimal("housing_max_share_of_income")
    if not 0 < share <= 1:
        inputs = ctx.inputs
        raise ParameterMissing(
            "housing_max_share_of_income",
            inputs.region,
            inputs.application_date,
            f"housing_max_share_of_income is {share}: it must be a share between 0 and 1 (e.g. 0.10)",
        )
    text = "housing costs exceed housing_max_share_of_income x aggregate family income"
    grounds = ("per_maslikhat_rules",)
    if ctx.inputs.housing_costs is None or not ctx.inputs.household:
        return [
            ctx.result("housing_costs_share", text, None, "housing costs or household not recorded", grounds)
        ]
    if any(m.monthly_income is None for m in ctx.inputs.household):
        return [ctx.result("housing_costs_share", text, None, "a member's income is not declared", grounds)]
    income = household_total(ctx.inputs.household)
    costs = money(ctx.inputs.housing_costs)
    limit = share * income
    detail = f"housing costs {costs} vs {share} x income {income} = {limit}"
    return [ctx.result("housing_costs_share", text, costs > limit, detail, grounds)]
