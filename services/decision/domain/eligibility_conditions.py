"""The eligibility conditions other than income: unemployment registration, the work-refusal
sanction, parents' activity, a child's age, register lookups and facts the specialist records.
Numbers come from the catalog (a rule's `limits`, a ground's `period`), never literals here.
"""

from __future__ import annotations

from datetime import date, timedelta

from services.decision.domain.rule_context import RuleContext
from shared.catalog.deadlines import add_months
from shared.catalog.vocabulary import DurationUnit
from shared.contracts.decisions import ConditionResult

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
        until = add_period(refused, period.value, period.unit)
        if on < until:
            detail = f"member {i} refused on {refused}; right lost until {until}"
            return [ctx.result("work_refusal", text, False, detail, (ground_id,))]
    return [ctx.result("work_refusal", text, True, "no refusal in force", (ground_id,))]


def add_period(day: date, amount: int, unit: DurationUnit) -> date:
    """The day a catalog ground's `period` (months, else days) ends, counted from `day`."""
    if unit is DurationUnit.MONTHS:
        return add_months(day, amount)
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
