"""The eligibility conditions other than income: unemployment registration, the work-refusal
sanction, parents' activity, a child's age, register lookups and facts the specialist records.
Numbers come from the catalog (a rule's `limits`, a ground's `period`), never literals here.
"""

from __future__ import annotations

from datetime import date, timedelta

from services.decision.domain.rule_context import RuleContext
from shared.catalog.deadlines import add_months
from shared.catalog.edition_parts import Ground, ListEntry
from shared.catalog.vocabulary import DurationUnit
from shared.contracts.decisions import ConditionResult, HouseholdMember

TRUE_WORDS = frozenset({"true", "yes", "1"})
CARED_UNDER = "cared_person_age_under_years"
CARED_OVER = "cared_person_age_over_years"
"""The names of the age limits a catalog exemption entry states for the person cared for."""
MONTHS_PER_YEAR = 12
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


def _age_fits(entry: ListEntry, born: date, on: date) -> bool:
    under = entry.limits.get(CARED_UNDER)
    if under is not None:
        return _age(born, on) < under
    over = entry.limits[CARED_OVER]
    return on > add_months(born, over * MONTHS_PER_YEAR)  # past the birthday: "over" eighty


def exemption_shown(
    ctx: RuleContext, index: int, member: HouseholdMember, entry: ListEntry
) -> tuple[bool | None, str]:
    """Whether the case data show the condition of a listed exemption: the age of the person cared
    for (the member's `cared_for_birth_date`, else another household member's birth date). An
    entry with no such condition in the catalog is taken as declared."""
    if CARED_UNDER not in entry.limits and CARED_OVER not in entry.limits:
        return True, f"{entry.id} ({entry.lines})"
    on = ctx.inputs.application_date
    if member.cared_for_birth_date is not None:
        fits = _age_fits(entry, member.cared_for_birth_date, on)
        return fits, f"{entry.id} ({entry.lines}): the person cared for " + (
            "qualifies" if fits else "does not"
        )
    others = [m.birth_date for j, m in enumerate(ctx.inputs.household) if j != index and m.birth_date]
    if any(_age_fits(entry, born, on) for born in others):
        return True, f"{entry.id} ({entry.lines}): a household member qualifies"
    return (
        None,
        f"{entry.id} ({entry.lines}): the age of the person cared for is not recorded (cared_for_birth_date)",
    )


def unemployed_registered(ctx: RuleContext) -> list[ConditionResult]:
    """Every able-bodied unemployed member is registered, unless exempt under the closed list the
    catalog gives for the rule (`exemptions`, with the seed's lines); any other exemption counts
    for nothing, and a listed one counts only when the case data show its condition."""
    text = "every able-bodied unemployed member is registered as unemployed unless exempt (closed list)"
    grounds = ("unemployed_not_registered",)
    rule = ctx.rule
    listed = {e.id: e for e in rule.exemptions} if rule is not None else {}
    unknown: list[str] = []
    failing: list[str] = []
    for i, m in enumerate(ctx.inputs.household):
        if not m.able_bodied or m.employment != "unemployed":
            continue
        who = f"member {i} ({m.relation})"
        exempt: bool | None = False
        why = ""
        if m.exemption is not None:
            entry = listed.get(m.exemption)
            if entry is None:
                why = f"; exemption {m.exemption!r} is not in the edition's closed list"
            else:
                exempt, why = exemption_shown(ctx, i, m, entry)
                why = f"; {why}"
        if exempt or m.registered_unemployed:
            continue
        if m.registered_unemployed is False and exempt is False:
            failing.append(who + why)
        else:
            unknown.append(who + why)
    if failing:
        return [
            ctx.result("unemployed_registered", text, False, "not registered: " + ", ".join(failing), grounds)
        ]
    if unknown:
        return [ctx.result("unemployed_registered", text, None, "unknown: " + ", ".join(unknown), grounds)]
    return [ctx.result("unemployed_registered", text, True, "no unregistered unemployed member", grounds)]


def _ground(ctx: RuleContext, ground_id: str) -> Ground | None:
    edition = ctx.edition
    return next(
        (g for g in (*edition.refusal_grounds, *edition.termination_grounds) if g.id == ground_id), None
    )


def work_refusal_sanction(ctx: RuleContext) -> list[ConditionResult]:
    """No unjustified refusal of work or training in force: for the catalog ground's `period`
    (6 months, 000), or until the placement that lifts it (`lifted_by`, 003: the member's
    `placed_on` on or after the refusal)."""
    ground_id = "refused_work_or_training"
    ground = _ground(ctx, ground_id)
    period = ground.period if ground is not None else None
    lifted_by = ground.lifted_by if ground is not None else None
    text = "no unjustified refusal of offered work or training" + (
        f" within {period.value} {period.unit.value}" if period is not None else ""
    )
    if lifted_by is not None:
        text += f" unless placed in a job or training since ({lifted_by})"
    on = ctx.inputs.application_date
    restored: list[str] = []
    for i, m in enumerate(ctx.inputs.household):
        refused = m.refused_work_on
        if refused is None or refused > on:
            continue
        if lifted_by is not None:
            if m.placed_on is not None and m.placed_on >= refused:
                restored.append(f"member {i} placed on {m.placed_on}: restored from that day")
                continue
            detail = (
                f"member {i} refused on {refused}; refused until placed in a job or training ({lifted_by})"
            )
            return [ctx.result("work_refusal", text, False, detail, (ground_id,))]
        if period is None:
            # The edition gives no period: the bar's length is unknown, so the condition is too
            # (a specialist decides), rather than a refusal for ever.
            detail = f"member {i} refused work on {refused}; the catalog gives no period for {ground_id}"
            return [ctx.result("work_refusal", text, None, detail, (ground_id,))]
        until = add_period(refused, period.value, period.unit)
        if on < until:
            detail = f"member {i} refused on {refused}; right lost until {until}"
            return [ctx.result("work_refusal", text, False, detail, (ground_id,))]
    return [
        ctx.result("work_refusal", text, True, "; ".join(restored) or "no refusal in force", (ground_id,))
    ]


def commission_conclusion(ctx: RuleContext) -> list[ConditionResult]:
    """The district commission's conclusion in the inspection act: need is required to assign,
    no need refuses (the Karaganda ground, 000 L16134-16137; the Akmola rule, 003 L141-152)."""
    text = "the district commission concludes that the family needs the assistance"
    grounds = ("district_commission_regulation_cases",)
    conclusion = ctx.inputs.commission_conclusion
    if conclusion is None:
        return [ctx.result("commission_conclusion", text, None, "no inspection act recorded", grounds)]
    if conclusion == "not_stated":
        detail = "the inspection act states no conclusion"
        return [ctx.result("commission_conclusion", text, None, detail, grounds)]
    return [
        ctx.result("commission_conclusion", text, conclusion == "need", f"conclusion: {conclusion}", grounds)
    ]


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
