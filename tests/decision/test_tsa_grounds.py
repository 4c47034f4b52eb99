"""Targeted social assistance as the seeds state it: the district commission's conclusion decides
(000 L16134-16137; 003 L141-152), registration exemptions are a closed list (000 L16139-16146;
003 L115-120), a refusal of work refuses until placement (003 L121-133), and the evaluation
records how income was counted (000 L16107-16112). Pure, no IO.
"""

from __future__ import annotations

from datetime import date

import pytest

from services.decision.domain import commands as c
from services.decision.domain.case import decide
from services.decision.domain.model import CaseState, evolve, initial
from services.decision.domain.rules import ParameterMissing, book_lookup, evaluate, reevaluate
from shared.contracts.decisions import (
    DecisionMade,
    EligibilityInputs,
    Evaluation,
    HouseholdMember,
    InspectionAct,
)

from .helpers import (
    AKMOLA_Q4_2012,
    HEAD,
    INCOME_RULES,
    INSPECTOR,
    KRG,
    SPECIALIST,
    TSA,
    TSA_AKMOLA,
    act_json,
    book,
    catalog,
    env,
    record,
    submitted,
)

ON = date(2012, 11, 15)
KRG_ON = date(2008, 12, 15)
KRG_BOOK = (record("poverty_line", "karaganda", date(2008, 10, 1), "7500", date(2009, 1, 1)), INCOME_RULES)


def _inputs(*members: HouseholdMember, conclusion: str | None = "need", **kw: object) -> EligibilityInputs:
    fields: dict[str, object] = {"application_date": ON, "region": "akmola", "channel": "department"}
    fields.update(kw)
    return EligibilityInputs.model_validate(
        {**fields, "household": members, "commission_conclusion": conclusion}
    )


def _m(income: str = "1000", **kw: object) -> HouseholdMember:
    return HouseholdMember.model_validate({"relation": "self", "monthly_income": income, **kw})


def _run(
    inputs: EligibilityInputs, edition: str = TSA_AKMOLA, records: tuple[object, ...] = AKMOLA_Q4_2012
) -> Evaluation:
    ed = catalog().service(TSA).edition(edition)
    return evaluate(TSA, ed, inputs, book_lookup(book(*records)))  # type: ignore[arg-type]


def _condition(ev: Evaluation, condition: str) -> str:
    return next(x.detail for x in ev.conditions if x.id == condition)


def _apply(state: CaseState, events: list[object]) -> CaseState:
    for e in events:
        state = evolve(state, e)  # type: ignore[arg-type]
    return state


# ----------------------------------------------------------------------------- (a) the commission


def test_akmola_no_need_conclusion_refuses_under_the_regulation_rule_and_need_is_required() -> None:
    refused = _run(_inputs(_m(), conclusion="no_need"))
    assert refused.outcome == "refused"
    assert refused.grounds == ("rule:commission_conclusion",)
    cited = next(x for x in refused.conditions if x.id == "commission_conclusion").citation
    assert "L141-152" in cited and "akmola_akimat_a12_517_2012" in cited
    assert _run(_inputs(_m(), conclusion="need")).outcome == "approved"
    for missing in ("not_stated", None):  # no conclusion: nothing can be assigned yet
        assert _run(_inputs(_m(), conclusion=missing)).outcome is None


def test_karaganda_no_need_conclusion_is_the_district_commission_ground() -> None:
    ev = _run(_inputs(_m(), conclusion="no_need", application_date=KRG_ON, region="karaganda"), KRG, KRG_BOOK)
    assert ev.outcome == "refused"
    assert ev.grounds == ("district_commission_regulation_cases",)


def test_a_case_whose_commission_found_no_need_is_refused_with_the_cited_rule() -> None:
    e = env(TSA, TSA_AKMOLA, *AKMOLA_Q4_2012)
    sub = submitted()
    state = _apply(initial(sub.application_id), decide(c.OpenCase(sub), initial(sub.application_id), e))
    act = InspectionAct.model_validate(act_json(conclusion="no_need"))
    state = _apply(state, decide(c.RecordInspection(INSPECTOR, act), state, e))
    state = _apply(state, decide(c.DraftDecision(SPECIALIST), state, e))
    made = decide(c.SignDecision(HEAD), state, e)[0]
    assert isinstance(made, DecisionMade) and made.outcome == "refused"
    assert [(g.id, g.source) for g in made.grounds] == [("rule:commission_conclusion", "rule")]
    assert "L141-152" in made.grounds[0].text
    assert made.evaluation.inputs.commission_conclusion == "no_need"
    assert reevaluate(made.evaluation, e.edition) == made.evaluation


# ----------------------------------------------------------------------------- (b) exemptions


def _unemployed(**kw: object) -> HouseholdMember:
    return _m("0", relation="spouse", employment="unemployed", **kw)


@pytest.mark.parametrize("edition", [TSA_AKMOLA, KRG])
def test_the_exemptions_are_the_seeds_closed_list_with_citations(edition: str) -> None:
    rule = next(
        r for r in catalog().service(TSA).edition(edition).rules if r.id == "unemployed_registration_test"
    )
    assert [e.id for e in rule.exemptions] == [
        "disabled",
        "inpatient_over_1_month",
        "full_time_student",
        "carer_of_disabled_group_1_2",
        "carer_of_person_over_80",
        "carer_of_child_under_7",
    ]
    assert all(e.lines.startswith("L") for e in rule.exemptions)


@pytest.mark.parametrize(
    "exemption", ["carer_of_child_under_3", "carer_of_disabled_child", "military_service"]
)
def test_an_exemption_outside_the_list_exempts_no_one(exemption: str) -> None:
    refused = _run(_inputs(_m(), _unemployed(registered_unemployed=False, exemption=exemption)))
    assert refused.outcome == "refused" and refused.grounds == ("unemployed_not_registered",)
    assert "not in the edition's closed list" in _condition(refused, "unemployed_registered")
    flagged = _run(_inputs(_m(), _unemployed(exemption=exemption)))  # registration not recorded
    assert flagged.outcome is None


def test_a_carer_of_a_child_under_7_needs_the_childs_age() -> None:
    carer = _unemployed(registered_unemployed=False, exemption="carer_of_child_under_7")
    young = _m("0", relation="child", birth_date=date(2006, 11, 16))  # 5 on the application day
    assert _run(_inputs(_m(), carer, young)).outcome == "approved"
    seven = _m("0", relation="child", birth_date=date(2005, 11, 15))  # turns 7 that day
    assert _run(_inputs(_m(), carer, seven)).outcome is None  # household shows no child under 7
    assert _run(_inputs(_m(), carer)).outcome is None
    named = carer.model_copy(update={"cared_for_birth_date": date(2005, 11, 15)})
    refused = _run(_inputs(_m(), named))
    assert refused.outcome == "refused" and refused.grounds == ("unemployed_not_registered",)
    assert "L117-119" in _condition(refused, "unemployed_registered")
    assert _run(
        _inputs(_m(), named.model_copy(update={"cared_for_birth_date": date(2010, 1, 1)}))
    ).outcome == ("approved")


@pytest.mark.parametrize(
    ("born", "outcome"), [(date(1932, 11, 15), "refused"), (date(1932, 11, 14), "approved")]
)
def test_a_carer_of_a_person_over_80(born: date, outcome: str) -> None:
    carer = _unemployed(
        registered_unemployed=False, exemption="carer_of_person_over_80", cared_for_birth_date=born
    )
    assert _run(_inputs(_m(), carer)).outcome == outcome  # 80 that very day is not "over 80"


def test_listed_exemptions_without_a_checkable_condition_still_exempt() -> None:
    for exemption in (
        "disabled",
        "inpatient_over_1_month",
        "full_time_student",
        "carer_of_disabled_group_1_2",
    ):
        member = _unemployed(registered_unemployed=False, exemption=exemption)
        assert _run(_inputs(_m(), member)).outcome == "approved", exemption


# ----------------------------------------------------------------------------- (c) work refusal


def test_akmola_work_refusal_refuses_until_placement() -> None:
    refusing = _unemployed(registered_unemployed=True, refused_work_on=date(2012, 9, 1))
    refused = _run(_inputs(_m(), refusing))
    assert refused.outcome == "refused" and refused.grounds == ("refused_work_or_training",)
    condition = next(x for x in refused.conditions if x.id == "work_refusal")
    assert "restoration_after_placement" in condition.detail and "L121-128" in condition.citation
    placed = refusing.model_copy(update={"placed_on": date(2012, 10, 1)})
    approved = _run(_inputs(_m(), placed))
    assert approved.outcome == "approved"
    assert "restored from that day" in _condition(approved, "work_refusal")
    earlier = refusing.model_copy(update={"placed_on": date(2012, 8, 1)})  # placed, then refused
    assert _run(_inputs(_m(), earlier)).outcome == "refused"


def test_a_case_with_a_work_refusal_is_refused_then_approved_after_placement() -> None:
    e = env(TSA, TSA_AKMOLA, *AKMOLA_Q4_2012)
    household = (_m("4000"), _unemployed(registered_unemployed=True, refused_work_on=date(2012, 9, 1)))
    outcomes = []
    for members in (
        household,
        (household[0], household[1].model_copy(update={"placed_on": date(2012, 11, 1)})),
    ):
        sub = submitted()
        state = _apply(initial(sub.application_id), decide(c.OpenCase(sub), initial(sub.application_id), e))
        act = InspectionAct.model_validate(act_json())
        state = _apply(state, decide(c.RecordInspection(INSPECTOR, act), state, e))
        state = _apply(state, decide(c.DraftDecision(SPECIALIST, household=members, amount="3000"), state, e))
        made = decide(c.SignDecision(HEAD), state, e)[0]
        assert isinstance(made, DecisionMade)
        outcomes.append((made.outcome, [(g.id, g.source) for g in made.grounds]))
    assert outcomes == [("refused", [("refused_work_or_training", "refusal_grounds")]), ("approved", [])]


def test_a_restore_ground_a_refusal_names_must_exist() -> None:
    edition = catalog().service(TSA).edition(TSA_AKMOLA)
    ground = next(g for g in edition.refusal_grounds if g.id == "refused_work_or_training")
    assert ground.lifted_by == "restoration_after_placement"
    assert ground.lifted_by in {g.id for g in edition.termination_grounds}


# ----------------------------------------------------------------------------- (d) income counting


def test_the_evaluation_records_the_income_counting_inputs() -> None:
    ev = _run(
        _inputs(_m("3000"), _m("2000", relation="child"), application_date=KRG_ON, region="karaganda"),
        KRG,
        KRG_BOOK,
    )
    (counting,) = ev.income_counting
    assert counting.rule_id == "income_test" and counting.method_parameter == "aggregate_income_rules"
    assert counting.period == "quarter_preceding_application_quarter"
    assert (counting.period_start, counting.period_end) == (date(2008, 7, 1), date(2008, 9, 30))
    assert (counting.members_counted, counting.members_undeclared, counting.total) == (2, 0, "5000")
    assert counting.threshold_parameter == "poverty_line" and counting.equal_is_eligible
    used = {p.parameter: p for p in ev.parameters}
    assert used["aggregate_income_rules"].effective_from == INCOME_RULES.effective_from
    again = reevaluate(
        Evaluation.model_validate_json(ev.model_dump_json()), catalog().service(TSA).edition(KRG)
    )
    assert again == ev


def test_an_edition_that_names_no_period_records_none_and_income_rules_must_be_in_force() -> None:
    ev = _run(_inputs(_m("3000"), _m(relation="child", income="0")))
    (counting,) = ev.income_counting
    assert counting.period is None and counting.period_start is None  # 003 does not say which period
    assert counting.method_parameter == "aggregate_income_rules"
    with pytest.raises(ParameterMissing) as info:
        _run(_inputs(_m("3000")), records=AKMOLA_Q4_2012[:2])
    assert info.value.parameter == "aggregate_income_rules"


def test_undeclared_income_is_counted_as_undeclared_not_as_zero() -> None:
    ev = _run(_inputs(_m("3000"), HouseholdMember(relation="spouse")))
    (counting,) = ev.income_counting
    assert (counting.members_counted, counting.members_undeclared, counting.total) == (2, 1, None)


def test_a_year_boundary_quarter() -> None:
    ev = _run(
        _inputs(_m(), application_date=date(2009, 1, 20), region="karaganda"),
        KRG,
        (
            record("poverty_line", "karaganda", date(2009, 1, 1), "8000"),
            INCOME_RULES,
        ),
    )
    (counting,) = ev.income_counting
    assert (counting.period_start, counting.period_end) == (date(2008, 10, 1), date(2008, 12, 31))
