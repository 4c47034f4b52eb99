"""The complaint's pure decisions (no database): who reopens the case, when the term may be
extended, what a timer does to an answered complaint."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.complaints.domain.complaint import (
    APPROACHING,
    BREACHED,
    ComplaintState,
    decide_extension,
    decide_resolution,
    decide_timer,
    fold,
)
from shared.contracts.complaints import Complainant, ComplaintRegistered
from shared.domain.errors import InvalidState, NotFound

AT = datetime(2025, 3, 3, 5, tzinfo=UTC)
DUE = datetime(2025, 3, 18, 18, 59, 59, tzinfo=UTC)


def _registered(subject: str = "decision") -> ComplaintState:
    event = ComplaintRegistered(
        complaint_id="c-1", registration_number="x-2025-C000001", subject=subject,
        application_id="a-1", service_id="s", office_id="o", region="karaganda", channel="post",
        registered_by="clerk", registered_at=AT, reviewing_body="oblast_department", reviewing_office="r",
        review_due_on=date(2025, 3, 18), review_due_at=DUE, review_term_basis="b",
        complainant=Complainant(full_name="N"), idempotency_key="k",
    )  # fmt: skip
    return fold([event])


@pytest.mark.parametrize(
    ("subject", "outcome", "reopen"),
    [
        ("decision", "upheld", True),
        ("decision", "partly_upheld", True),
        ("decision", "rejected", False),
        ("intake_refusal", "upheld", False),
        ("official_action", "upheld", False),
    ],
)
def test_only_a_justified_complaint_against_a_decision_reopens_the_case(
    subject: str, outcome: str, reopen: bool
) -> None:
    resolved = decide_resolution(
        _registered(subject),
        outcome=outcome,  # type: ignore[arg-type]
        reasoning="r",
        by="rev",
        at=AT,
    )
    assert resolved.reopen_case is reopen and resolved.on_time


def test_on_time_is_at_or_before_the_end_of_the_due_day() -> None:
    state = _registered()
    assert decide_resolution(state, outcome="upheld", reasoning="r", by="x", at=DUE).on_time
    late = DUE + timedelta(seconds=1)
    assert not decide_resolution(state, outcome="upheld", reasoning="r", by="x", at=late).on_time


def test_extension_rules() -> None:
    state = _registered()
    later = DUE + timedelta(days=15)
    extended = decide_extension(state, new_due_at=later, new_due_on=later.date(), reason="r", by="x", at=AT)
    assert (extended.previous_due_on, extended.review_due_on) == (date(2025, 3, 18), later.date())
    with pytest.raises(InvalidState, match="only once"):
        decide_extension(fold([state.complaint, extended]), new_due_at=later + timedelta(days=1),
                         new_due_on=later.date(), reason="r", by="x", at=AT)  # fmt: skip
    with pytest.raises(InvalidState, match="run out"):
        decide_extension(state, new_due_at=later, new_due_on=later.date(), reason="r", by="x",
                         at=DUE + timedelta(seconds=1))  # fmt: skip
    with pytest.raises(InvalidState, match="later"):
        decide_extension(state, new_due_at=DUE, new_due_on=DUE.date(), reason="r", by="x", at=AT)
    answered = fold(
        [state.complaint, decide_resolution(state, outcome="rejected", reasoning="r", by="x", at=AT)]
    )
    with pytest.raises(InvalidState, match="answered"):
        decide_extension(answered, new_due_at=later, new_due_on=later.date(), reason="r", by="x", at=AT)


def test_timers_of_an_answered_complaint_change_nothing() -> None:
    state = _registered()
    assert decide_timer(state, APPROACHING, AT).event_name == "complaint.review_deadline_approaching"  # type: ignore[union-attr]
    assert decide_timer(state, BREACHED, DUE).event_name == "complaint.review_deadline_breached"  # type: ignore[union-attr]
    answered = fold(
        [state.complaint, decide_resolution(state, outcome="upheld", reasoning="r", by="x", at=AT)]
    )
    assert decide_timer(answered, BREACHED, DUE) is None


def test_an_unknown_complaint_is_not_found() -> None:
    with pytest.raises(NotFound):
        decide_resolution(ComplaintState(), outcome="upheld", reasoning="r", by="x", at=AT)


def test_an_approaching_timer_that_fires_after_the_due_instant_says_nothing() -> None:
    state = _registered()
    assert decide_timer(state, APPROACHING, DUE - timedelta(seconds=1)) is not None
    assert decide_timer(state, APPROACHING, DUE) is None
    assert decide_timer(state, BREACHED, DUE + timedelta(days=2)) is not None
