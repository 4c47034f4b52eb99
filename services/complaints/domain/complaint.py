"""A complaint as its own case: state folded from its events, and the pure decisions on it
(extend the term, answer, record an escalation, fire a review timer).

Rules decided here (and documented in the README of the service):
- the term is extended at most once, only while the complaint is unanswered and only before its
  term has run out (an extension is notice given in time, not a cure for a late review), and
  only if the extended term ends later than the current one;
- an answered complaint is never answered again, nor extended; escalations are recorded at any
  time after registration (the complainant may go to a higher body or to court whenever);
- an upheld or partly upheld complaint against a decision sends the case back (`reopen_case`),
  but only while the decision it contested is still the one in force (another complaint may have
  reopened it, or a new decision replaced it): otherwise `reopen_withheld` says why;
- an escalation to the same body as one recorded already is a repeat (a retried request):
  nothing new is recorded;
- an "approaching" timer that fires at or after the due instant (both timers overdue after a
  restart) records nothing: the breach says it all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime

from shared.contracts.complaints import (
    ComplaintEscalated,
    ComplaintOutcome,
    ComplaintRegistered,
    ComplaintResolved,
    ComplaintReviewDeadlineApproaching,
    ComplaintReviewDeadlineBreached,
    ComplaintReviewExtended,
    ComplaintSubject,
    EscalationTarget,
)
from shared.contracts.event import DomainEvent
from shared.domain.errors import InvalidState, NotFound

APPROACHING = "review_approaching"
BREACHED = "review_breached"
TIMER_KINDS = (APPROACHING, BREACHED)


def stream_id(complaint_id: str) -> str:
    return f"complaint-{complaint_id}"


@dataclass(frozen=True)
class ComplaintState:
    version: int = 0
    registered: ComplaintRegistered | None = None
    due_at: datetime | None = None
    due_on: date | None = None
    extended: bool = False
    resolved: ComplaintResolved | None = None
    escalations: tuple[tuple[str, str], ...] = ()
    """(to, body) of each escalation recorded."""

    @property
    def complaint(self) -> ComplaintRegistered:
        if self.registered is None:
            raise NotFound("no such complaint")
        return self.registered

    @property
    def subject(self) -> ComplaintSubject:
        return self.complaint.subject


def evolve(state: ComplaintState, event: DomainEvent) -> ComplaintState:
    state = replace(state, version=state.version + 1)
    if isinstance(event, ComplaintRegistered):
        due_at = event.review_due_at
        return replace(state, registered=event, due_at=due_at, due_on=event.review_due_on)
    if isinstance(event, ComplaintReviewExtended):
        return replace(state, extended=True, due_at=event.review_due_at, due_on=event.review_due_on)
    if isinstance(event, ComplaintResolved):
        return replace(state, resolved=event)
    if isinstance(event, ComplaintEscalated):
        return replace(state, escalations=(*state.escalations, (event.to, event.body)))
    return state


def fold(events: Iterable[DomainEvent]) -> ComplaintState:
    state = ComplaintState()
    for event in events:
        state = evolve(state, event)
    return state


def decide_extension(
    state: ComplaintState, *, new_due_at: datetime, new_due_on: date, reason: str, by: str, at: datetime
) -> ComplaintReviewExtended:
    complaint = state.complaint
    if state.resolved is not None:
        raise InvalidState("the complaint has been answered; its term can no longer be extended")
    if state.extended:
        raise InvalidState("the review term was extended once already; it may be extended only once")
    assert state.due_at is not None and state.due_on is not None
    if at > state.due_at:
        raise InvalidState("the review term has run out; it can no longer be extended")
    if new_due_at <= state.due_at:
        raise InvalidState("the extended term would not end later than the current one")
    return ComplaintReviewExtended(
        complaint_id=complaint.complaint_id,
        application_id=complaint.application_id,
        previous_due_on=state.due_on,
        review_due_on=new_due_on,
        review_due_at=new_due_at,
        reason=reason,
        extended_by=by,
        extended_at=at,
    )


def decide_resolution(
    state: ComplaintState,
    *,
    outcome: ComplaintOutcome,
    reasoning: str,
    by: str,
    at: datetime,
    decision_in_force: bool = True,
) -> ComplaintResolved:
    """The answer; `decision_in_force`: the decision the complaint contested is still the one in
    force (the read model's latest decision, not reopened since)."""
    complaint = state.complaint
    if state.resolved is not None:
        raise InvalidState(f"the complaint was answered already ({state.resolved.outcome})")
    assert state.due_at is not None
    justified_against_decision = outcome in ("upheld", "partly_upheld") and complaint.subject == "decision"
    withheld = None
    if justified_against_decision and not decision_in_force:
        made = complaint.contested_decision_at
        withheld = (
            f"the contested decision (made {made.isoformat() if made else 'earlier'}) is no longer in"
            " force: the case was reopened or decided again since, so this answer does not reopen it"
        )
    return ComplaintResolved(
        complaint_id=complaint.complaint_id,
        application_id=complaint.application_id,
        subject=complaint.subject,
        service_id=complaint.service_id,
        office_id=complaint.office_id,
        reviewing_office=complaint.reviewing_office,
        outcome=outcome,
        reasoning=reasoning,
        reviewed_by=by,
        resolved_at=at,
        on_time=at <= state.due_at,
        reopen_case=justified_against_decision and decision_in_force,
        contested_decision_at=complaint.contested_decision_at,
        reopen_withheld=withheld,
    )


def decide_escalation(
    state: ComplaintState, *, to: EscalationTarget, body: str, note: str | None, by: str, at: datetime
) -> ComplaintEscalated | None:
    """The escalation; None when the same one (to, body) was recorded already (a retry)."""
    complaint = state.complaint
    if (to, body) in state.escalations:
        return None
    return ComplaintEscalated(
        complaint_id=complaint.complaint_id,
        application_id=complaint.application_id,
        to=to,
        body=body,
        recorded_by=by,
        recorded_at=at,
        note=note,
    )


def decide_timer(state: ComplaintState, kind: str, at: datetime) -> DomainEvent | None:
    """The deadline event of a due timer; None when the complaint was answered meanwhile."""
    complaint = state.complaint
    if state.resolved is not None:
        return None
    assert state.due_on is not None and state.due_at is not None
    if kind == APPROACHING:
        if at >= state.due_at:
            return None
        return ComplaintReviewDeadlineApproaching(
            complaint_id=complaint.complaint_id,
            application_id=complaint.application_id,
            reviewing_office=complaint.reviewing_office,
            review_due_on=state.due_on,
            fired_at=at,
        )
    if kind == BREACHED:
        return ComplaintReviewDeadlineBreached(
            complaint_id=complaint.complaint_id,
            application_id=complaint.application_id,
            reviewing_office=complaint.reviewing_office,
            review_due_on=state.due_on,
            fired_at=at,
        )
    raise ValueError(f"unknown timer kind {kind!r}")
