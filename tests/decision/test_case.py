"""The case aggregate, pure: workflow from the catalog, roles and office scope, flags, timers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.decision.domain import commands as c
from services.decision.domain.case import Env, decide
from services.decision.domain.errors import Forbidden, InvalidInput, InvalidState, NotFound
from services.decision.domain.model import CaseState, Status, evolve, initial
from services.decision.domain.rules import reevaluate
from services.decision.domain.timers import CancelTimers, ScheduleTimer, timer_changes
from shared.contracts.decisions import (
    CaseFlagged,
    DecisionMade,
    EntitlementStarted,
    EntitlementSuspended,
    EntitlementTerminated,
    HouseholdMember,
    InspectionAct,
)
from shared.contracts.event import DomainEvent

from .helpers import (
    AKMOLA_Q4_2012,
    HEAD,
    INCOME_RULES,
    INSPECTOR,
    REVIEWER,
    SPECIALIST,
    TSA,
    TSA_AKMOLA,
    act_json,
    env,
    record,
    submitted,
)


def _apply(state: CaseState, events: list[DomainEvent]) -> CaseState:
    for e in events:
        state = evolve(state, e)
    return state


def _run(state: CaseState, command: c.Command, e: Env) -> tuple[CaseState, list[DomainEvent]]:
    events = decide(command, state, e)
    return _apply(state, events), events


def _open(e: Env, **kw: object) -> CaseState:
    sub = submitted(**kw)  # type: ignore[arg-type]
    state, _ = _run(initial(sub.application_id), c.OpenCase(sub), e)
    return state


def _inspected(e: Env) -> CaseState:
    state = _open(e)
    state, _ = _run(state, c.AssignExecutor(HEAD, "spec-1"), e)
    state, _ = _run(state, c.ScheduleInspection(INSPECTOR, date(2012, 11, 17)), e)
    state, _ = _run(state, c.RecordInspection(INSPECTOR, InspectionAct.model_validate(act_json())), e)
    return state


def test_tsa_workflow_follows_the_akmola_regulation() -> None:
    e = env(TSA, TSA_AKMOLA, *AKMOLA_Q4_2012)
    state = _open(e)
    assert state.status is Status.UNDER_REVIEW  # the regulation has no assignment step (a head still may)
    opened = state.opened
    assert opened is not None and opened.inspection == "required" and opened.signature_required
    state, _ = _run(state, c.AssignExecutor(HEAD, "spec-1"), e)
    with pytest.raises(InvalidState, match="inspection must be completed"):
        decide(c.DraftDecision(SPECIALIST, amount="5000"), state, e)
    state, _ = _run(state, c.ScheduleInspection(INSPECTOR, date(2012, 11, 17)), e)
    assert state.status is Status.AWAITING_INSPECTION
    with pytest.raises(InvalidState):
        decide(c.DraftDecision(SPECIALIST, amount="5000"), state, e)
    state, _ = _run(state, c.RecordInspection(INSPECTOR, InspectionAct.model_validate(act_json())), e)
    state, events = _run(state, c.DraftDecision(SPECIALIST, amount="5000"), e)
    assert state.status is Status.AWAITING_SIGNATURE
    state, events = _run(state, c.SignDecision(HEAD), e)
    made = events[0]
    assert isinstance(made, DecisionMade)
    assert made.outcome == "approved" and made.signed_by == "head-1" and made.drafted_by == "spec-1"
    assert made.result_id == "assignment_notification" and made.amount == "5000"
    assert made.evaluation.edition_id == TSA_AKMOLA
    assert isinstance(events[1], EntitlementStarted)
    assert events[1].reconfirm_by == date(2013, 1, 1)
    assert state.status is Status.ACTIVE
    assert reevaluate(made.evaluation, e.edition) == made.evaluation


def test_refusal_carries_catalog_grounds_and_needs_no_amount() -> None:
    e = env(TSA, TSA_AKMOLA, *AKMOLA_Q4_2012)
    state = _inspected(e)
    rich = c.DraftDecision(
        SPECIALIST, household=InspectionAct.model_validate(act_json(("20000", "1"))).household
    )
    state, _ = _run(state, rich, e)
    _, events = _run(state, c.SignDecision(HEAD), e)
    made = events[0]
    assert isinstance(made, DecisionMade) and made.outcome == "refused"
    assert [g.id for g in made.grounds] == ["income_above_poverty_line"]
    assert made.grounds[0].source == "refusal_grounds" and made.amount is None
    # The letter to the applicant quotes the ground as the Kazakh act states it (003 L113-114).
    assert made.grounds[0].text_kk == (
        "отбасының жан басына шаққандағы орташа табысы белгіленген кедейлік шегінен асатын жағдайда"
    )
    assert len(events) == 1  # no entitlement


def test_signature_only_by_the_head_of_the_case_office() -> None:
    e = env(TSA, TSA_AKMOLA, *AKMOLA_Q4_2012)
    state = _inspected(e)
    state, _ = _run(state, c.DraftDecision(SPECIALIST, amount="5000"), e)
    with pytest.raises(Forbidden, match="role 'specialist'"):
        decide(c.SignDecision(SPECIALIST), state, e)
    with pytest.raises(NotFound, match="no case"):  # another office's case is not revealed
        decide(c.SignDecision(c.Actor("head-2", "head", "other-office")), state, e)
    state, _ = _run(state, c.ReturnForRework(HEAD, "check the income certificate"), e)
    assert state.status is Status.UNDER_REVIEW and state.draft is None and state.returns == 1


def test_only_the_assigned_executor_drafts_and_amount_is_required() -> None:
    e = env(TSA, TSA_AKMOLA, *AKMOLA_Q4_2012)
    state = _inspected(e)
    with pytest.raises(Forbidden):
        decide(c.DraftDecision(c.Actor("spec-2", "specialist", "akmola-village-1"), amount="1"), state, e)
    with pytest.raises(InvalidInput, match="amount is required"):
        decide(c.DraftDecision(SPECIALIST), state, e)


def test_missing_parameter_flags_the_case_instead_of_crashing() -> None:
    e = env(TSA, TSA_AKMOLA)  # no poverty line in force anywhere
    state = _inspected(e)
    state, events = _run(state, c.DraftDecision(SPECIALIST, amount="5000"), e)
    assert len(events) == 1 and isinstance(events[0], CaseFlagged)
    flag = events[0]
    assert (flag.reason, flag.parameter, flag.region, flag.on_date) == (
        "parameter_not_in_force",
        "poverty_line",
        "akmola",
        date(2012, 11, 15),
    )
    assert state.status is Status.UNDER_REVIEW and state.flags


def test_automated_service_is_decided_without_a_human_step() -> None:
    e = env("pension_savings_account_info", "kz_std_393_new_2012")
    sub = submitted(
        service_id="pension_savings_account_info",
        edition_id="kz_std_393_new_2012",
        channel="tson",
        due_in=timedelta(minutes=10),
    )
    state, events = _run(initial(sub.application_id), c.OpenCase(sub), e)
    made = next(x for x in events if isinstance(x, DecisionMade))
    assert made.automated and made.signed_by is None and made.drafted_by is None
    assert made.outcome in ("approved", "information")
    assert state.status is Status.DECIDED


def test_no_extension_where_the_catalog_allows_none() -> None:
    e = env(TSA, TSA_AKMOLA, *AKMOLA_Q4_2012)
    state = _open(e)
    with pytest.raises(InvalidState, match="no extension"):
        decide(c.ExtendTerm(HEAD, "need more time"), state, e)


def test_extension_recorded_with_reason_where_allowed() -> None:
    svc, ed = "semipalatinsk_victim_registration", "krg_2008_standard"
    e = env(svc, ed, region="karaganda", now=datetime(2008, 12, 5, tzinfo=UTC))
    received = datetime(2008, 12, 1, 5, tzinfo=UTC)
    state = _open(
        e,
        service_id=svc,
        edition_id=ed,
        channel="department",
        office_id="akmola-village-1",
        region="karaganda",
        received_at=received,
    )
    state, events = _run(state, c.ExtendTerm(HEAD, "additional check requested from the archive"), e)
    ext = events[0]
    assert ext.reason.startswith("additional") and ext.new_due_at > received + timedelta(days=20)  # type: ignore[attr-defined]
    assert state.extensions == 1 and state.due_at == ext.new_due_at  # type: ignore[attr-defined]
    with pytest.raises(InvalidState, match="maximum"):
        decide(c.ExtendTerm(HEAD, "again"), state, e)


def test_no_extension_once_the_term_has_passed() -> None:
    svc, ed = "semipalatinsk_victim_registration", "krg_2008_standard"
    received = datetime(2008, 12, 1, 5, tzinfo=UTC)
    late = env(svc, ed, region="karaganda", now=received + timedelta(days=60))
    state = _open(
        late, service_id=svc, edition_id=ed, channel="department", region="karaganda", received_at=received
    )
    assert state.due_at is not None and state.due_at < late.now
    with pytest.raises(InvalidState, match="already passed"):
        decide(c.ExtendTerm(HEAD, "too late"), state, late)


def test_deadline_timers_set_and_cancelled() -> None:
    e = env(TSA, TSA_AKMOLA, *AKMOLA_Q4_2012)
    sub = submitted(due_in=timedelta(days=20))
    events = decide(c.OpenCase(sub), initial(sub.application_id), e)
    changes = timer_changes(initial(sub.application_id), events, e)
    kinds = {x.kind: x for x in changes if isinstance(x, ScheduleTimer)}
    assert kinds["deadline_breached"].due_at == sub.due_at
    assert kinds["deadline_approaching"].due_at == sub.received_at + timedelta(days=15)
    state = _inspected(e)
    state, _ = _run(state, c.DraftDecision(SPECIALIST, amount="5000"), e)
    made = decide(c.SignDecision(HEAD), state, e)
    changes = timer_changes(state, made, e)
    assert any(isinstance(x, CancelTimers) and "deadline_breached" in x.kinds for x in changes)
    assert {x.kind for x in changes if isinstance(x, ScheduleTimer)} == {
        "reconfirmation_due",
        "reconfirmation_missed",
    }


def test_stale_or_decided_deadline_timer_fires_nothing() -> None:
    e = env(TSA, TSA_AKMOLA, *AKMOLA_Q4_2012)
    state = _open(e)
    due = state.due_at
    assert due is not None
    fired = decide(c.FireTimer("deadline_breached", due), state, e)
    assert [x.event_name for x in fired] == ["decision.deadline_breached"]
    state = _apply(state, fired)
    assert decide(c.FireTimer("deadline_breached", due), state, e) == []
    assert decide(c.FireTimer("deadline_approaching", due - timedelta(days=1)), state, e) == []


def _active(e: Env) -> CaseState:
    state = _inspected(e)
    state, _ = _run(state, c.DraftDecision(SPECIALIST, amount="5000"), e)
    state, _ = _run(state, c.SignDecision(HEAD), e)
    assert state.status is Status.ACTIVE
    return state


def test_entitlement_suspension_termination_and_reconfirmation() -> None:
    e = env(TSA, TSA_AKMOLA, *AKMOLA_Q4_2012)
    state = _active(e)
    # Quarterly re-confirmation missed -> suspended with the rule as ground.
    missed = decide(c.FireTimer("reconfirmation_missed", datetime(2012, 12, 31, 19, tzinfo=UTC)), state, e)
    assert (
        isinstance(missed[0], EntitlementSuspended) and missed[0].ground.id == "rule:quarterly_reconfirmation"
    )
    assert missed[0].ground.text_kk is None  # rules have no Kazakh wording in the catalog
    # Re-confirmation received in time moves the next date; the old timer is then stale.
    received, _ = _run(state, c.RecordFact(SPECIALIST, "reconfirmation_received", date(2012, 12, 20)), e)
    assert received.reconfirm_by == date(2013, 4, 1)
    assert (
        decide(c.FireTimer("reconfirmation_missed", datetime(2012, 12, 31, 19, tzinfo=UTC)), received, e)
        == []
    )
    # Placement in a job restores (Akmola's restoration ground).
    suspended = _apply(state, missed)
    restored = decide(c.RecordFact(SPECIALIST, "placed_in_job", date(2013, 1, 10)), suspended, e)
    assert restored[0].ground.id == "restoration_after_placement"  # type: ignore[attr-defined]
    assert restored[0].ground.text_kk.startswith("Жұмыссыз адам жұмысқа")  # type: ignore[attr-defined]
    # A deprivation period running out restores under the same catalog ground, in its Kazakh wording.
    deprived = _apply(state, [missed[0].model_copy(update={"until": date(2013, 2, 1)})])
    back = decide(c.FireTimer("deprivation_ends", datetime(2013, 1, 31, 19, tzinfo=UTC)), deprived, e)
    assert [x.event_name for x in back] == ["entitlement.restored"]
    assert back[0].ground.id == "restoration_after_placement"  # type: ignore[attr-defined]
    assert back[0].ground.text_kk == restored[0].ground.text_kk  # type: ignore[attr-defined]
    # Death terminates.
    died = decide(c.RecordFact(SPECIALIST, "death", date(2013, 1, 5)), state, e)
    assert isinstance(died[0], EntitlementTerminated) and died[0].ground.source == "fact"
    assert died[0].ground.text_kk is None
    # The specialist may name the catalog ground; only the edition's own grounds are accepted.
    named = e.edition.termination_grounds[0].id
    moved = decide(c.RecordFact(SPECIALIST, "moved_away", date(2013, 1, 5), ground_id=named), state, e)
    assert moved[0].ground.id == named  # type: ignore[attr-defined]
    assert moved[0].ground.text_kk == e.edition.termination_grounds[0].text_kk  # type: ignore[attr-defined]
    assert moved[0].ground.text_kk  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput, match="not in edition"):
        decide(c.RecordFact(SPECIALIST, "moved_away", date(2013, 1, 5), ground_id="made_up"), state, e)


def test_six_month_deprivation_from_the_catalog_period() -> None:
    krg = env(
        TSA,
        "krg_2008_standard",
        record("poverty_line", "karaganda", date(2008, 10, 1), "7500", date(2009, 1, 1)),
        INCOME_RULES,
        region="karaganda",
        now=datetime(2008, 12, 10, tzinfo=UTC),
    )
    sub = submitted(
        edition_id="krg_2008_standard",
        channel="department",
        region="karaganda",
        received_at=datetime(2008, 12, 1, 5, tzinfo=UTC),
    )
    state, _ = _run(initial(sub.application_id), c.OpenCase(sub), krg)
    state, _ = _run(
        state,
        c.RecordInspection(INSPECTOR, InspectionAct.model_validate(act_json(("3000", "3000"), "2008-12-05"))),
        krg,
    )
    state, events = _run(state, c.DraftDecision(SPECIALIST, amount="3000"), krg)
    assert [x.event_name for x in events] == ["decision.drafted", "decision.made", "entitlement.started"]
    suspended = decide(c.RecordFact(SPECIALIST, "refused_work", date(2009, 1, 10)), state, krg)
    assert isinstance(suspended[0], EntitlementSuspended)
    assert suspended[0].until == date(2009, 7, 10) and suspended[0].ground.id == "refused_work_or_training"
    assert suspended[0].ground.text_kk is not None
    assert suspended[0].ground.text_kk.endswith("алты айға атаулы әлеуметтік көмек алу құқығынан айырылады.")
    state = _apply(state, suspended)
    back = decide(c.FireTimer("deprivation_ends", datetime(2009, 7, 9, 19, tzinfo=UTC)), state, krg)
    assert [x.event_name for x in back] == ["entitlement.restored"]


def test_reopening_puts_the_case_back_to_review_with_a_new_deadline() -> None:
    e = env(TSA, TSA_AKMOLA, *AKMOLA_Q4_2012, now=datetime(2012, 12, 10, 6, tzinfo=UTC))
    state = _active(e)
    with pytest.raises(Forbidden):
        decide(c.ReopenApplication(SPECIALIST, "cmp-1", "upheld"), state, e)
    state2, events = _run(
        state, c.ReopenApplication(REVIEWER, "cmp-1", "complaint upheld: income miscounted"), e
    )
    suspended, reopened = events[0], events[1]
    # The running payment stops while the case is reviewed again, and that is published.
    assert isinstance(suspended, EntitlementSuspended)
    assert suspended.ground.id == "reopened_after_complaint"
    assert reopened.new_due_at is not None and reopened.new_due_at > e.now  # type: ignore[attr-defined]
    assert state2.status is Status.UNDER_REVIEW and state2.decision is None and state2.reopened == 1
    assert state2.inspection is not None  # history kept
    # The commission may inspect again; the draft then waits for the new act.
    again, _ = _run(state2, c.ScheduleInspection(INSPECTOR, date(2012, 12, 12)), e)
    with pytest.raises(InvalidState, match="inspection must be completed"):
        decide(c.DraftDecision(SPECIALIST, amount="6000"), again, e)
    changes = timer_changes(state, events, e)
    assert any(isinstance(x, ScheduleTimer) and x.kind == "deadline_breached" for x in changes)
    # Decide again.
    state3, _ = _run(state2, c.DraftDecision(SPECIALIST, amount="6000"), e)
    _, made = _run(state3, c.SignDecision(HEAD), e)
    assert isinstance(made[0], DecisionMade) and made[0].amount == "6000"


def test_manual_service_outcome_and_grounds_only_from_the_catalog() -> None:
    svc, ed = "prosthetic_orthopaedic_aid_docs", "krg_2008_standard"
    e = env(svc, ed, region="karaganda")
    state = _open(e, service_id=svc, edition_id=ed, channel="department", region="karaganda")
    with pytest.raises(InvalidInput, match="record the outcome"):
        decide(c.DraftDecision(SPECIALIST), state, e)
    with pytest.raises(InvalidInput, match="not in the catalog"):
        decide(c.DraftDecision(SPECIALIST, outcome="refused", grounds=("made_up",)), state, e)
    with pytest.raises(InvalidInput, match="not in the catalog"):  # a rule the edition does not have
        decide(
            c.DraftDecision(SPECIALIST, outcome="refused", grounds=("rule:i_just_dont_like_it",)), state, e
        )
    if e.edition.termination_grounds:  # termination grounds are not refusal grounds
        termination = e.edition.termination_grounds[0].id
        with pytest.raises(InvalidInput, match="not in the catalog"):
            decide(c.DraftDecision(SPECIALIST, outcome="refused", grounds=(termination,)), state, e)
    ground = e.edition.refusal_grounds[0].id
    events = decide(c.DraftDecision(SPECIALIST, outcome="refused", grounds=(ground,)), state, e)
    made = next(x for x in events if isinstance(x, DecisionMade))
    assert made.grounds[0].id == ground and not made.evaluation.computable
    assert made.grounds[0].text_kk == e.edition.refusal_grounds[0].text_kk
    assert made.grounds[0].text_kk is not None and made.grounds[0].text_kk.startswith("егер денсаулығына")


def _child_benefit_inspected() -> tuple[Env, CaseState, tuple[HouseholdMember, ...]]:
    """A child benefit case (Karaganda, 2008) after its inspection, and the household a draft names."""
    svc = "child_benefit_under_18"
    krg = env(
        svc,
        "krg_2008_standard",
        record("food_basket_cost", "karaganda", date(2008, 10, 1), "6800", date(2009, 1, 1)),
        INCOME_RULES,
        region="karaganda",
        now=datetime(2008, 12, 10, tzinfo=UTC),
    )
    sub = submitted(
        service_id=svc,
        edition_id="krg_2008_standard",
        channel="department",
        region="karaganda",
        received_at=datetime(2008, 12, 1, 5, tzinfo=UTC),
    )
    state, _ = _run(initial(sub.application_id), c.OpenCase(sub), krg)
    state, _ = _run(
        state,
        c.RecordInspection(INSPECTOR, InspectionAct.model_validate(act_json(("5000", "0"), "2008-12-05"))),
        krg,
    )
    household = (
        HouseholdMember(relation="mother", monthly_income="5000", activity="works"),
        HouseholdMember(relation="child", monthly_income="0", birth_date=date(1995, 4, 2)),
    )
    return krg, state, household


def test_child_benefit_ends_when_the_child_turns_18() -> None:
    krg, state, household = _child_benefit_inspected()
    before = state
    state, events = _run(state, c.DraftDecision(SPECIALIST, household=household, amount="2000"), krg)
    assert state.status is Status.ACTIVE
    timers = [x for x in timer_changes(before, events, krg) if isinstance(x, ScheduleTimer)]
    assert [(t.kind, t.target.date()) for t in timers] == [("child_turns_18", date(2013, 4, 2))]
    ended = decide(c.FireTimer("child_turns_18", timers[0].target), state, krg)
    assert isinstance(ended[0], EntitlementTerminated) and ended[0].ground.id == "rule:child_age"
    with pytest.raises(InvalidInput, match="no re-confirmation"):  # only TSA has quarterly re-confirmation
        decide(c.RecordFact(SPECIALIST, "reconfirmation_received", date(2009, 1, 10)), state, krg)


def test_a_scheduled_inspection_cannot_be_skipped_by_reassigning() -> None:
    svc, ed = "semipalatinsk_victim_registration", "krg_2008_standard"  # inspection only when needed
    e = env(svc, ed, region="karaganda")
    state = _open(e, service_id=svc, edition_id=ed, channel="department", region="karaganda")
    assert state.opened is not None and state.opened.inspection == "conditional"
    state, _ = _run(state, c.AssignExecutor(HEAD, "spec-1"), e)
    state, _ = _run(state, c.ScheduleInspection(INSPECTOR, date(2008, 12, 20)), e)
    state, _ = _run(state, c.AssignExecutor(HEAD, "spec-2"), e)
    assert state.status is Status.AWAITING_INSPECTION
    with pytest.raises(InvalidState, match="inspection must be completed"):
        decide(c.DraftDecision(SPECIALIST, outcome="approved"), state, e)


def test_an_incomplete_document_set_cannot_be_approved_until_checked_again() -> None:
    e = env(TSA, TSA_AKMOLA, *AKMOLA_Q4_2012)
    state = _inspected(e)
    state, events = _run(state, c.CheckDocuments(SPECIALIST, complete=False, notes="no income statement"), e)
    assert events[0].checked_by == SPECIALIST.subject  # type: ignore[attr-defined]
    with pytest.raises(InvalidState, match="incomplete"):
        decide(c.DraftDecision(SPECIALIST, amount="6000"), state, e)
    state, _ = _run(state, c.CheckDocuments(SPECIALIST, complete=True), e)
    drafted = decide(c.DraftDecision(SPECIALIST, amount="6000"), state, e)
    assert drafted and drafted[0].event_name == "decision.drafted"
    with pytest.raises(Forbidden):
        decide(c.CheckDocuments(HEAD, complete=True), state, e)  # the specialist checks documents


def test_timer_changes_from_the_callers_fold_equal_its_own() -> None:
    """`plan` folds the events once and hands timer_changes the states after each (issue 14); the
    child's 18th birthday timer is read from the state after the decision, so states that are
    not the fold's give another answer."""
    krg, state, household = _child_benefit_inspected()
    events = decide(c.DraftDecision(SPECIALIST, household=household, amount="2000"), state, krg)
    states, after = [], state
    for event in events:
        after = evolve(after, event)
        states.append(after)
    own = timer_changes(state, events, krg)
    assert timer_changes(state, events, krg, states) == own
    assert any(isinstance(x, ScheduleTimer) and x.kind == "child_turns_18" for x in own)
    assert timer_changes(state, events, krg, [state] * len(events)) != own  # the states are used
    with pytest.raises(ValueError, match="states for"):
        timer_changes(state, events, krg, states[:-1])
