"""Eligibility rules engine: catalog rules are data, evaluators are small pure functions.

An evaluator is keyed by (service id, catalog rule id) and, for conditions the catalog states
only as a refusal ground, by the ground id. It reads the `EligibilityInputs` and named,
effective-dated parameters, and returns one `ConditionResult` per condition, with the ground
it would apply and the legal citation. `evaluate` runs every evaluator that the edition names
and records everything on an `Evaluation`; `reevaluate` replays a recorded evaluation from its
stored inputs and parameter values, and must reproduce it exactly.

Legal numbers (poverty line, food-basket cost, housing share) are never literals here; the
sanction period comes from the catalog ground's `period`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

from shared.catalog.deadlines import add_months
from shared.catalog.errors import CatalogError, ParameterNotInForce
from shared.catalog.models import Edition
from shared.catalog.parameters import ParameterBook, TermValue
from shared.catalog.vocabulary import DurationUnit
from shared.contracts.decisions import (
    ConditionResult,
    DecisionOutcome,
    EligibilityInputs,
    Evaluation,
    HouseholdMember,
    ParameterUsed,
)

ParameterLookup = Callable[[str, str, date], ParameterUsed]
"""(parameter id, region, date) -> the value used; raises ParameterNotInForce."""

EQUALITY_POLICY = "income_threshold_equality_policy"
EQUAL_IS_ELIGIBLE = "equal_is_eligible"
EQUAL_IS_NOT_ELIGIBLE = "equal_is_not_eligible"
RULE_DEFAULT = "rule_default"
AMOUNT_RULES = frozenset({"amount", "compensation_amount", "categories_and_amounts"})
AMOUNT_VALUE_PARAMETERS = ("local_assistance_amount", "home_schooled_child_support_amount")
"""Parameters that are the amount itself (a flat sum set by the maslikhat); other amount rules name
no computable formula (e.g. `benefit_amounts` is the citation of an act), so the specialist records
the amount."""
TRUE_WORDS = frozenset({"true", "yes", "1"})
PARENT_RELATIONS = frozenset({"self", "spouse", "parent", "mother", "father", "adopter", "guardian"})
CARE_EXEMPTIONS = frozenset(
    {
        "carer_of_disabled_group_1_2",
        "carer_of_person_over_80",
        "carer_of_child_under_3",
        "carer_of_disabled_child",
        "disabled",
    }
)


class ParameterMissing(Exception):
    """A parameter a rule needs has no usable value (wraps the catalog error)."""

    def __init__(self, parameter: str, region: str, on_date: date, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.region = region
        self.on_date = on_date


def _text(value: object) -> str:
    if isinstance(value, TermValue):
        return f"{value.amount} {value.unit.value}"
    if isinstance(value, tuple):
        return "; ".join(str(v) for v in value)
    return str(value)


def book_lookup(book: ParameterBook) -> ParameterLookup:
    """A lookup over a ParameterBook (the value in force on the date, for the region)."""

    def lookup(parameter: str, region: str, on_date: date) -> ParameterUsed:
        resolved = book.lookup(parameter, region, on_date)
        return ParameterUsed(
            parameter=parameter,
            region=region,
            on_date=on_date,
            value=_text(resolved.value),
            record_region=resolved.record.region,
            effective_from=resolved.record.effective_from,
            example=resolved.record.example,
        )

    return lookup


def recorded_lookup(recorded: tuple[ParameterUsed, ...]) -> ParameterLookup:
    """A lookup that answers only with the values a decision recorded (for re-evaluation)."""
    by_id = {p.parameter: p for p in recorded}

    def lookup(parameter: str, region: str, on_date: date) -> ParameterUsed:
        try:
            return by_id[parameter]
        except KeyError:
            raise ParameterNotInForce(parameter, region, on_date) from None

    return lookup


@dataclass
class RuleContext:
    service_id: str
    edition: Edition
    key: str
    """The catalog rule id, or `ground:<id>` when the condition is stated only as a ground."""
    text: str
    inputs: EligibilityInputs
    lookup: ParameterLookup
    used: dict[str, ParameterUsed] = field(default_factory=dict)

    @property
    def citation(self) -> str:
        e = self.edition
        return f"{e.act} ({e.source.file} {e.source.lines}), edition {e.id}, {self.key}: {self.text}"

    def parameter(self, parameter_id: str) -> str:
        inputs = self.inputs
        try:
            used = self.lookup(parameter_id, inputs.region, inputs.application_date)
        except CatalogError as exc:
            raise ParameterMissing(parameter_id, inputs.region, inputs.application_date, str(exc)) from exc
        self.used[parameter_id] = used
        return used.value

    def limit(self, name: str) -> int:
        """A number the seed states for this rule (catalog `limits`), never a literal in code."""
        value = rule_limit(self.edition, self.key, name)
        if value is None:
            inputs = self.inputs
            raise ParameterMissing(
                f"{self.key}.limits.{name}",
                inputs.region,
                inputs.application_date,
                f"edition {self.edition.id} rule {self.key!r} states no limit {name!r}",
            )
        return value

    def decimal(self, parameter_id: str) -> Decimal:
        return Decimal(self.parameter(parameter_id))

    def equality_eligible(self, default: bool) -> bool:
        """The income-threshold equality policy in force; the rule's own reading if none is."""
        inputs = self.inputs
        try:
            used = self.lookup(EQUALITY_POLICY, inputs.region, inputs.application_date)
        except CatalogError:
            used = ParameterUsed(
                parameter=EQUALITY_POLICY,
                region=inputs.region,
                on_date=inputs.application_date,
                value=EQUAL_IS_ELIGIBLE if default else EQUAL_IS_NOT_ELIGIBLE,
                record_region=RULE_DEFAULT,
                effective_from=inputs.application_date,
                example=False,
            )
        self.used[EQUALITY_POLICY] = used
        return used.value != EQUAL_IS_NOT_ELIGIBLE

    def result(
        self, condition: str, text: str, holds: bool | None, detail: str, grounds: tuple[str, ...] = ()
    ) -> ConditionResult:
        catalog_grounds = {g.id for g in (*self.edition.refusal_grounds, *self.edition.termination_grounds)}
        ground = next((g for g in grounds if g in catalog_grounds), None)
        return ConditionResult(
            id=condition,
            rule_id=self.key,
            text=text,
            holds=holds,
            detail=detail,
            ground_id=ground,
            citation=self.citation,
        )


Evaluator = Callable[[RuleContext], list[ConditionResult]]


@dataclass(frozen=True)
class Check:
    service_id: str
    rule_ids: tuple[str, ...]
    ground_ids: tuple[str, ...]
    evaluate: Evaluator


def _money(value: str) -> Decimal:
    return Decimal(value)


def _household_total(members: tuple[HouseholdMember, ...]) -> Decimal:
    return sum((_money(m.monthly_income) for m in members if m.monthly_income is not None), Decimal(0))


def _per_capita_test(
    ctx: RuleContext, parameter: str, default_equal_eligible: bool, grounds: tuple[str, ...]
) -> list[ConditionResult]:
    members = ctx.inputs.household
    threshold = ctx.decimal(parameter)
    eligible_on_equality = ctx.equality_eligible(default_equal_eligible)
    text = f"average monthly per-capita income {'<=' if eligible_on_equality else '<'} {parameter}"
    if not members:
        return [ctx.result("per_capita_income", text, None, "household not recorded", grounds)]
    undeclared = [f"member {i} ({m.relation})" for i, m in enumerate(members) if m.monthly_income is None]
    if undeclared:
        detail = "income not declared: " + ", ".join(undeclared)
        return [ctx.result("per_capita_income", text, None, detail, grounds)]
    total = _household_total(members)
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


def unemployed_registered(ctx: RuleContext) -> list[ConditionResult]:
    text = "every able-bodied unemployed member is registered as unemployed unless exempt"
    grounds = ("unemployed_not_registered",)
    unknown: list[str] = []
    failing: list[str] = []
    for i, m in enumerate(ctx.inputs.household):
        if not m.able_bodied or m.employment != "unemployed" or m.exemption is not None:
            continue
        if m.registered_unemployed is None:
            unknown.append(f"member {i} ({m.relation})")
        elif not m.registered_unemployed:
            failing.append(f"member {i} ({m.relation})")
    if failing:
        return [
            ctx.result("unemployed_registered", text, False, "not registered: " + ", ".join(failing), grounds)
        ]
    if unknown:
        return [ctx.result("unemployed_registered", text, None, "unknown: " + ", ".join(unknown), grounds)]
    return [ctx.result("unemployed_registered", text, True, "no unregistered unemployed member", grounds)]


def work_refusal_sanction(ctx: RuleContext) -> list[ConditionResult]:
    ground_id = "refused_work_or_training"
    ground = next(
        (g for g in (*ctx.edition.refusal_grounds, *ctx.edition.termination_grounds) if g.id == ground_id),
        None,
    )
    period = ground.period if ground is not None else None
    text = "no unjustified refusal of offered work or training" + (
        f" within {period.value} {period.unit.value}" if period is not None else ""
    )
    on = ctx.inputs.application_date
    for i, m in enumerate(ctx.inputs.household):
        refused = m.refused_work_on
        if refused is None or refused > on:
            continue
        if period is None:
            # The edition gives no period: the bar's length is unknown, so the condition is too
            # (a specialist decides), rather than a refusal for ever.
            detail = f"member {i} refused work on {refused}; the catalog gives no period for {ground_id}"
            return [ctx.result("work_refusal", text, None, detail, (ground_id,))]
        until = _add(refused, period.value, period.unit)
        if on < until:
            detail = f"member {i} refused on {refused}; right lost until {until}"
            return [ctx.result("work_refusal", text, False, detail, (ground_id,))]
    return [ctx.result("work_refusal", text, True, "no refusal in force", (ground_id,))]


def _add(day: date, amount: int, unit: DurationUnit) -> date:
    if unit is DurationUnit.MONTHS:
        return add_months(day, amount)
    from datetime import timedelta

    return day + timedelta(days=amount)


def parent_activity(ctx: RuleContext) -> list[ConditionResult]:
    text = "every able-bodied parent works, studies, serves or is registered unemployed, unless caring"
    grounds = ("parent_activity_test_failed",)
    parents = [m for m in ctx.inputs.household if m.relation in PARENT_RELATIONS and m.able_bodied]
    unknown: list[str] = []
    for i, m in enumerate(parents):
        if m.exemption in CARE_EXEMPTIONS:
            continue
        if m.activity is None:
            unknown.append(f"parent {i} ({m.relation})")
        elif m.activity == "none":
            return [
                ctx.result("parent_activity", text, False, f"parent {i} ({m.relation}) inactive", grounds)
            ]
    if unknown:
        return [ctx.result("parent_activity", text, None, "unknown: " + ", ".join(unknown), grounds)]
    return [ctx.result("parent_activity", text, True, f"{len(parents)} parent(s) checked", grounds)]


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def rule_limit(edition: Edition, rule_id: str, name: str) -> int | None:
    for rule in edition.rules or ():
        if rule.id == rule_id:
            return rule.limits.get(name)
    return None


def child_age(ctx: RuleContext) -> list[ConditionResult]:
    limit = ctx.limit("age_under_years")
    text = f"the child is under {limit}"
    on = ctx.inputs.application_date
    births = [m.birth_date for m in ctx.inputs.household if m.relation == "child" and m.birth_date]
    if ctx.inputs.subject_birth_date is not None:
        births.append(ctx.inputs.subject_birth_date)
    if not births:
        return [ctx.result("child_under_age_limit", text, None, "no child's birth date recorded")]
    ages = [_age(b, on) for b in births]
    return [ctx.result("child_under_age_limit", text, min(ages) < limit, f"youngest child is {min(ages)}")]


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
    income = _household_total(ctx.inputs.household)
    costs = _money(ctx.inputs.housing_costs)
    limit = share * income
    detail = f"housing costs {costs} vs {share} x income {income} = {limit}"
    return [ctx.result("housing_costs_share", text, costs > limit, detail, grounds)]


def registered_unemployed(ctx: RuleContext) -> list[ConditionResult]:
    text = "the applicant is registered as unemployed (register lookup)"
    value = ctx.inputs.registered_unemployed
    detail = "register lookup not recorded" if value is None else f"registered: {value}"
    return [ctx.result("registered_unemployed", text, value, detail, ("not_registered_unemployed",))]


def _fact(ctx: RuleContext, name: str) -> bool | None:
    value = ctx.inputs.facts.get(name)
    return None if value is None else value.strip().lower() in TRUE_WORDS


def local_assistance_category(ctx: RuleContext) -> list[ConditionResult]:
    categories = [x.strip() for x in ctx.parameter("local_assistance_categories").split(";") if x.strip()]
    text = "the applicant belongs to a category set by the maslikhat (local_assistance_categories)"
    category = ctx.inputs.facts.get("category")
    if category is None:
        return [ctx.result("maslikhat_category", text, None, "category not recorded (fact 'category')")]
    return [ctx.result("maslikhat_category", text, category in categories, f"category {category!r}")]


def rural_specialist(ctx: RuleContext) -> list[ConditionResult]:
    results = []
    for fact, text in (
        ("rural_residence", "lives in a rural settlement"),
        ("rural_workplace", "works in a rural settlement"),
        (
            "social_sector_employer",
            "employer is a state healthcare, social, education, culture or sport body",
        ),
    ):
        value = _fact(ctx, fact)
        detail = f"fact {fact!r} " + ("not recorded" if value is None else f"= {value}")
        results.append(ctx.result(fact, text, value, detail))
    return results


TSA = "targeted_social_assistance"
CHECKS: tuple[Check, ...] = (
    Check(TSA, ("income_test", "delegated_content"), ("income_above_poverty_line",), tsa_income),
    Check(TSA, ("unemployed_registration_test",), ("unemployed_not_registered",), unemployed_registered),
    Check(TSA, ("six_month_sanction",), ("refused_work_or_training",), work_refusal_sanction),
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
    citations: list[str] = []
    keys: list[str] = []
    for check, key, text in _selected(service_id, edition):
        ctx = RuleContext(service_id, edition, key, text, inputs, lookup)
        conditions.extend(check.evaluate(ctx))
        used.update(ctx.used)
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
            amount = str(ctx.decimal(flat))
            used.update(ctx.used)
            amount_source = "formula"
            citations.append(f"{where}: {rule.text} - the amount is the parameter {flat}")
        else:
            amount = inputs.amount
            amount_source = "specialist_input"
            citations.append(f"{where}: {rule.text} - no formula: the amount is recorded by the specialist")
        keys.append(amount_key)
    return Evaluation(
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
    )


def reevaluate(evaluation: Evaluation, edition: Edition) -> Evaluation:
    """Evaluate again from the recorded inputs and parameter values under the recorded edition."""
    if edition.id != evaluation.edition_id:
        raise ValueError(f"evaluation was made under edition {evaluation.edition_id!r}, not {edition.id!r}")
    return evaluate(evaluation.service_id, edition, evaluation.inputs, recorded_lookup(evaluation.parameters))
