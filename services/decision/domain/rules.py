"""Eligibility rules engine: catalog rules are data, evaluators are small pure functions.

An evaluator is keyed by (service id, catalog rule id) and, for conditions the catalog states
only as a refusal ground, by the ground id (`CHECKS`, the one registry). It reads the
`EligibilityInputs` and named, effective-dated parameters (`rule_context`), and returns one
`ConditionResult` per condition, with the ground it would apply and the legal citation; the
evaluators live in `income_tests` and `eligibility_conditions`. `evaluate` runs every evaluator
that the edition names and records everything on an `Evaluation`; `reevaluate` replays a
recorded evaluation from its stored inputs and parameter values, and must reproduce it exactly.

Legal numbers (poverty line, food-basket cost, housing share) are never literals here; the
sanction period comes from the catalog ground's `period`. The engine's public names, the
evaluators' included, are importable from this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import TypeAdapter

from services.decision.domain.built import built
from services.decision.domain.eligibility_conditions import (
    CARE_EXEMPTIONS,
    PARENT_RELATIONS,
    TRUE_WORDS,
    child_age,
    commission_conclusion,
    local_assistance_category,
    parent_activity,
    registered_unemployed,
    rural_specialist,
    unemployed_registered,
    work_refusal_sanction,
)
from services.decision.domain.income_tests import (
    child_benefit_income,
    housing_costs,
    tsa_income,
)
from services.decision.domain.rule_context import (
    EQUAL_IS_ELIGIBLE,
    EQUAL_IS_NOT_ELIGIBLE,
    EQUALITY_POLICY,
    RULE_DEFAULT,
    Evaluator,
    ParameterLookup,
    ParameterMissing,
    RuleContext,
    book_lookup,
    recorded_lookup,
    rule_limit,
)
from shared.catalog.models import Edition
from shared.contracts.decisions import (
    ConditionResult,
    DecisionOutcome,
    EligibilityInputs,
    Evaluation,
    IncomeCounting,
    Money,
    ParameterUsed,
)

AMOUNT_RULES = frozenset({"amount", "compensation_amount", "categories_and_amounts"})
_AMOUNT: TypeAdapter[str] = TypeAdapter(Money)

AMOUNT_VALUE_PARAMETERS = ("local_assistance_amount", "home_schooled_child_support_amount")
"""Parameters that are the amount itself (a flat sum set by the maslikhat); other amount rules name
no computable formula (e.g. `benefit_amounts` is the citation of an act), so the specialist records
the amount."""


@dataclass(frozen=True)
class Check:
    service_id: str
    rule_ids: tuple[str, ...]
    ground_ids: tuple[str, ...]
    evaluate: Evaluator


TSA = "targeted_social_assistance"
CHECKS: tuple[Check, ...] = (
    Check(TSA, ("income_test", "delegated_content"), ("income_above_poverty_line",), tsa_income),
    Check(TSA, ("unemployed_registration_test",), ("unemployed_not_registered",), unemployed_registered),
    Check(TSA, ("six_month_sanction",), ("refused_work_or_training",), work_refusal_sanction),
    Check(TSA, ("commission_conclusion",), ("district_commission_regulation_cases",), commission_conclusion),
    Check("child_benefit_under_18", ("income_test",), ("income_above_food_basket",), child_benefit_income),
    Check(
        "child_benefit_under_18", ("parent_activity_test",), ("parent_activity_test_failed",), parent_activity
    ),
    Check("child_benefit_under_18", ("child_age",), (), child_age),
    Check("housing_assistance", ("housing_cost_test",), (), housing_costs),
    Check(
        "unemployed_certificate",
        ("registration_lookup",),
        ("not_registered_unemployed",),
        registered_unemployed,
    ),
    Check("active_employment_referral", ("registration_lookup",), (), registered_unemployed),
    Check("home_schooled_disabled_child_support", ("age_limit",), (), child_age),
    Check("local_social_assistance", ("categories_and_amounts",), (), local_assistance_category),
    Check("rural_specialist_fuel_assistance", ("eligibility",), (), rural_specialist),
)


def _selected(service_id: str, edition: Edition) -> list[tuple[Check, str, str]]:
    """The checks the edition names: (check, key, text of the rule or ground that names it)."""
    rules = {r.id: r.text for r in edition.rules}
    grounds = {g.id: g.text for g in (*edition.refusal_grounds, *edition.termination_grounds)}
    chosen: list[tuple[Check, str, str]] = []
    for check in CHECKS:
        if check.service_id != service_id:
            continue
        rule = next((r for r in check.rule_ids if r in rules), None)
        if rule is not None:
            chosen.append((check, rule, rules[rule]))
            continue
        ground = next((g for g in check.ground_ids if g in grounds), None)
        if ground is not None:
            chosen.append((check, f"ground:{ground}", grounds[ground]))
    return chosen


def computable(service_id: str, edition: Edition) -> bool:
    return bool(_selected(service_id, edition))


def amount_rule(edition: Edition) -> str | None:
    return next((r.id for r in edition.rules if r.id in AMOUNT_RULES), None)


def evaluate(
    service_id: str, edition: Edition, inputs: EligibilityInputs, lookup: ParameterLookup
) -> Evaluation:
    """Run every check the edition names; raise ParameterMissing when a parameter has no value."""
    conditions: list[ConditionResult] = []
    used: dict[str, ParameterUsed] = {}
    income: list[IncomeCounting] = []
    citations: list[str] = []
    keys: list[str] = []
    for check, key, text in _selected(service_id, edition):
        ctx = RuleContext(service_id, edition, key, text, inputs, lookup)
        conditions.extend(check.evaluate(ctx))
        used.update(ctx.used)
        income.extend(ctx.income)
        citations.append(ctx.citation)
        keys.append(key)
    is_computable = bool(keys)
    outcome: DecisionOutcome | None = None
    grounds: list[str] = []
    if is_computable:
        failed = [c for c in conditions if c.holds is False]
        if failed:
            outcome = "refused"
            for c in failed:
                gid = c.ground_id or f"rule:{c.rule_id}"
                if gid not in grounds:
                    grounds.append(gid)
        elif all(c.holds is True for c in conditions):
            outcome = "approved"
    amount_key = amount_rule(edition)
    amount_source: Literal["formula", "specialist_input", "none"] = "none"
    amount = None
    if amount_key is not None and outcome != "refused":
        rule = next(r for r in edition.rules if r.id == amount_key)
        source = f"{edition.source.file} {edition.source.lines}"
        where = f"{edition.act} ({source}), edition {edition.id}, {amount_key}"
        flat = next((p for p in rule.parameters if p in AMOUNT_VALUE_PARAMETERS), None)
        if flat is not None:
            ctx = RuleContext(service_id, edition, amount_key, rule.text, inputs, lookup)
            # A money parameter is any finite number to the catalog; a decided amount is Money
            # (the evaluation is built without validation, so its one computed text is checked)
            amount = _AMOUNT.validate_python(str(ctx.decimal(flat)))
            used.update(ctx.used)
            amount_source = "formula"
            citations.append(f"{where}: {rule.text} - the amount is the parameter {flat}")
        else:
            amount = inputs.amount
            amount_source = "specialist_input"
            citations.append(f"{where}: {rule.text} - no formula: the amount is recorded by the specialist")
        keys.append(amount_key)
    # Of validated parts (the inputs, the catalog's parameters and texts) and what the checks
    # computed from them: built, not validated again (issue 14; the tests validate it too).
    return built(
        Evaluation,
        service_id=service_id,
        edition_id=edition.id,
        rule_ids=tuple(keys),
        computable=is_computable,
        inputs=inputs,
        parameters=tuple(used[k] for k in sorted(used)),
        conditions=tuple(conditions),
        outcome=outcome,
        grounds=tuple(grounds),
        amount=amount,
        amount_source=amount_source,
        citations=tuple(citations),
        income_counting=tuple(income),
    )


def reevaluate(evaluation: Evaluation, edition: Edition) -> Evaluation:
    """Evaluate again from the recorded inputs and parameter values under the recorded edition."""
    if edition.id != evaluation.edition_id:
        raise ValueError(f"evaluation was made under edition {evaluation.edition_id!r}, not {edition.id!r}")
    return evaluate(evaluation.service_id, edition, evaluation.inputs, recorded_lookup(evaluation.parameters))


__all__ = [
    "AMOUNT_RULES",
    "AMOUNT_VALUE_PARAMETERS",
    "CARE_EXEMPTIONS",
    "EQUALITY_POLICY",
    "EQUAL_IS_ELIGIBLE",
    "EQUAL_IS_NOT_ELIGIBLE",
    "PARENT_RELATIONS",
    "RULE_DEFAULT",
    "TRUE_WORDS",
    "TSA",
    "Check",
    "Evaluator",
    "ParameterLookup",
    "ParameterMissing",
    "RuleContext",
    "amount_rule",
    "book_lookup",
    "child_age",
    "child_benefit_income",
    "commission_conclusion",
    "computable",
    "evaluate",
    "housing_costs",
    "local_assistance_category",
    "parent_activity",
    "recorded_lookup",
    "reevaluate",
    "registered_unemployed",
    "rule_limit",
    "rural_specialist",
    "tsa_income",
    "unemployed_registered",
    "work_refusal_sanction",
]
