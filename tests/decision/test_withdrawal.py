"""A withdrawal closes an undecided case (timers cancelled, no further command); one that reaches
a signed case is too late and the decision stands: both orders of the race, pure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.decision.domain import commands as c
from services.decision.domain.case import decide
from services.decision.domain.errors import InvalidState
from services.decision.domain.model import CaseState, Status, evolve, initial
from services.decision.domain.policy import POLICY
from services.decision.domain.timers import DEADLINE_KINDS, ENTITLEMENT_KINDS, CancelTimers, timer_changes
from shared.contracts.decisions import CaseWithdrawn, WithdrawalTooLate
from shared.contracts.event import DomainEvent
from shared.domain.errors import Forbidden

from .helpers import AKMOLA_Q4_2012, HEAD, INSPECTOR, SPECIALIST, TSA, TSA_AKMOLA, env, submitted
from .test_case import _inspected

WITHDRAWN_AT = datetime(2012, 11, 19, 9, 0, tzinfo=UTC)
WITHDRAW = c.CloseWithdrawn(actor=c.SYSTEM, withdrawn_by="clerk-1", withdrawn_at=WITHDRAWN_AT)


def _apply(state: CaseState, events: list[DomainEvent]) -> CaseState:
    for event in events:
        state = evolve(state, event)
    return state


def _awaiting_signature() -> CaseState:
    e = env(TSA, TSA_AKMOLA, *AKMOLA_Q4_2012)
    state = _inspected(e)
    state = _apply(state, decide(c.DraftDecision(SPECIALIST, amount="5000"), state, e))
    assert state.status is Status.AWAITING_SIGNATURE
    return state


def test_withdrawal_first_closes_the_case_cancels_its_timers_and_refuses_the_signature() -> None:
    e = env(TSA, TSA_AKMOLA, *AKMOLA_Q4_2012)
    state = _awaiting_signature()
    events = decide(WITHDRAW, state, e)
    assert [type(x) for x in events] == [CaseWithdrawn]
    closed = events[0]
    assert (
        isinstance(closed, CaseWithdrawn) and closed.withdrawn_by == "clerk-1" and closed.closed_at == e.now
    )
    assert timer_changes(state, events, e) == [CancelTimers(DEADLINE_KINDS | ENTITLEMENT_KINDS)]
    after = _apply(state, events)
    assert after.status is Status.WITHDRAWN and not after.is_open and after.draft is None
    with pytest.raises(InvalidState, match="withdrawn"):
        decide(c.SignDecision(HEAD), after, e)
    with pytest.raises(InvalidState, match="withdrawn"):
        decide(c.AssignExecutor(HEAD, "spec-2"), after, e)
    assert decide(WITHDRAW, after, e) == []  # the same withdrawal redelivered
    due = after.due_at
    assert due is not None
    assert decide(c.FireTimer(kind="deadline_breached", target=due), after, e) == []


def test_signature_first_the_decision_stands_and_the_withdrawal_is_too_late() -> None:
    e = env(TSA, TSA_AKMOLA, *AKMOLA_Q4_2012)
    state = _awaiting_signature()
    signed = _apply(state, decide(c.SignDecision(HEAD), state, e))
    assert signed.decision is not None
    events = decide(WITHDRAW, signed, e)
    assert [type(x) for x in events] == [WithdrawalTooLate]
    late = events[0]
    assert isinstance(late, WithdrawalTooLate)
    assert (late.decided_at, late.outcome) == (signed.decision.decided_at, signed.decision.outcome)
    assert timer_changes(signed, events, e) == []
    assert _apply(signed, events).status is signed.status is Status.ACTIVE  # the entitlement runs on


def test_a_reopened_case_cannot_be_withdrawn_its_decision_was_signed() -> None:
    e = env(TSA, TSA_AKMOLA, *AKMOLA_Q4_2012)
    state = _awaiting_signature()
    state = _apply(state, decide(c.SignDecision(HEAD), state, e))
    reviewer = c.Actor("rev-1", "reviewer", "akmola-village-1")
    state = _apply(state, decide(c.ReopenApplication(reviewer, "cmp-1", "upheld"), state, e))
    assert state.decision is None and state.is_open
    assert [type(x) for x in decide(WITHDRAW, state, e)] == [WithdrawalTooLate]


def test_only_the_service_closes_a_case_for_a_withdrawal() -> None:
    e = env(TSA, TSA_AKMOLA, *AKMOLA_Q4_2012)
    sub = submitted()
    state = _apply(initial(sub.application_id), decide(c.OpenCase(sub), initial(sub.application_id), e))
    as_inspector = c.CloseWithdrawn(actor=INSPECTOR, withdrawn_by="clerk-1", withdrawn_at=WITHDRAWN_AT)
    with pytest.raises(Forbidden):
        decide(as_inspector, state, e)
    assert POLICY.roles(c.CloseWithdrawn) == ["system"]
