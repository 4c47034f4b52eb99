"""Which timers a case's new events set or cancel (pure). The timer store persists them in the
same transaction as the events; the scheduler fires them as `FireTimer` commands.

* the SLA: `deadline_approaching` at start + share x (due - start), `deadline_breached` at due;
  both cancelled by the decision or a withdrawal, and re-set by an extension or a reopening;
* entitlements: quarterly re-confirmation (notice, then "missed" -> suspension), the child's
  18th birthday (termination), the end of a deprivation period (restoration).
Date-based timers fire at local midnight of their day in the office's time zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from services.decision.domain.env import Env
from services.decision.domain.model import CaseState, evolve
from services.decision.domain.rules import rule_limit
from shared.catalog.deadlines import add_months
from shared.contracts.decisions import (
    ApplicationReopened,
    CaseOpened,
    CaseWithdrawn,
    DecisionMade,
    EntitlementStarted,
    EntitlementSuspended,
    EntitlementTerminated,
    ReconfirmationReceived,
    TermExtended,
    TimerKind,
)
from shared.contracts.event import DomainEvent

DEADLINE_KINDS: frozenset[TimerKind] = frozenset({"deadline_approaching", "deadline_breached"})
ENTITLEMENT_KINDS: frozenset[TimerKind] = frozenset(
    {"reconfirmation_due", "reconfirmation_missed", "child_turns_18", "deprivation_ends"}
)


@dataclass(frozen=True)
class ScheduleTimer:
    kind: TimerKind
    due_at: datetime
    target: datetime


@dataclass(frozen=True)
class CancelTimers:
    kinds: frozenset[TimerKind]


TimerChange = ScheduleTimer | CancelTimers


def approaching_at(start: datetime, due: datetime, share: Decimal) -> datetime:
    """The instant when `share` of the term from `start` to `due` has passed."""
    micros = (due - start) // timedelta(microseconds=1)
    return start + timedelta(microseconds=int(Decimal(max(micros, 0)) * share))


@dataclass(frozen=True)
class _Deadline:
    """Both deadline timers of a term, worked out only if no later event of the same batch
    cancels them (an automated case is opened and decided at once: issue 14)."""

    start: datetime
    due: datetime

    def timers(self, env: Env) -> list[ScheduleTimer]:
        return [
            ScheduleTimer(
                "deadline_approaching", approaching_at(self.start, self.due, env.approaching_share), self.due
            ),
            ScheduleTimer("deadline_breached", self.due, self.due),
        ]


def _midnight(day: date, env: Env) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=env.tz)


def _reconfirmation(by: date, env: Env) -> list[TimerChange]:
    notice = _midnight(by - env.reconfirmation_notice, env)
    missed = _midnight(by, env)
    return [
        ScheduleTimer("reconfirmation_due", notice, notice),
        ScheduleTimer("reconfirmation_missed", missed, missed),
    ]


def _child_18(state: CaseState, env: Env) -> list[TimerChange]:
    decision = state.decision
    if decision is None:
        return []
    limits = [
        limit
        for rule_id in decision.evaluation.rule_ids
        if (limit := rule_limit(env.edition, rule_id, "age_under_years")) is not None
    ]
    if not limits:
        return []
    inputs = decision.evaluation.inputs
    births = [m.birth_date for m in inputs.household if m.relation == "child" and m.birth_date is not None]
    if inputs.subject_birth_date is not None:
        births.append(inputs.subject_birth_date)
    if not births:
        return []
    at = _midnight(add_months(max(births), min(limits) * 12), env)
    return [ScheduleTimer("child_turns_18", at, at)]


def timer_changes(
    before: CaseState,
    events: list[DomainEvent],
    env: Env,
    states: Sequence[CaseState] | None = None,
) -> list[TimerChange]:
    """The timer changes `events` make to the case at `before`; `states`: the case after each
    event, where the caller folded them already (the fold is not done a second time)."""
    changes: list[TimerChange | _Deadline] = []
    state = before
    if states is not None and len(states) != len(events):
        raise ValueError(f"{len(states)} states for {len(events)} events")
    for i, event in enumerate(events):
        state = evolve(state, event) if states is None else states[i]
        if isinstance(event, CaseOpened) and event.due_at is not None:
            changes.append(_Deadline(event.received_at, event.due_at))
        elif isinstance(event, TermExtended):
            assert state.opened is not None
            changes.append(CancelTimers(DEADLINE_KINDS))
            changes.append(_Deadline(state.opened.received_at, event.new_due_at))
        elif isinstance(event, DecisionMade):
            changes.append(CancelTimers(DEADLINE_KINDS))
        elif isinstance(event, ApplicationReopened):
            changes.append(CancelTimers(DEADLINE_KINDS | ENTITLEMENT_KINDS))
            if event.new_due_at is not None:
                changes.append(_Deadline(event.reopened_at, event.new_due_at))
        elif isinstance(event, EntitlementStarted):
            if event.reconfirm_by is not None:
                changes.extend(_reconfirmation(event.reconfirm_by, env))
            changes.extend(_child_18(state, env))
        elif isinstance(event, ReconfirmationReceived):
            changes.extend(_reconfirmation(event.next_due_by, env))
        elif isinstance(event, EntitlementSuspended) and event.until is not None:
            at = _midnight(event.until, env)
            changes.append(ScheduleTimer("deprivation_ends", at, at))
        elif isinstance(event, EntitlementTerminated):
            changes.append(CancelTimers(ENTITLEMENT_KINDS))
        elif isinstance(event, CaseWithdrawn):
            changes.append(CancelTimers(DEADLINE_KINDS | ENTITLEMENT_KINDS))
    net = _net(changes, env, stored_before=before.version > 0)
    return [
        timer
        for change in net
        for timer in (change.timers(env) if isinstance(change, _Deadline) else (change,))
    ]


def _net(
    changes: list[TimerChange | _Deadline], env: Env, *, stored_before: bool
) -> list[TimerChange | _Deadline]:
    """Drop timers set and cancelled by the same batch of events (an automated decision sets none);
    a cancel is only needed when earlier batches may have stored timers. A term's deadline timers
    stay unworked until a cancel leaves one of them (or the batch ends)."""
    out: list[TimerChange | _Deadline] = []
    for change in changes:
        if isinstance(change, CancelTimers):
            deadlines = change.kinds & DEADLINE_KINDS
            kept: list[TimerChange | _Deadline] = []
            for x in out:
                if isinstance(x, _Deadline):
                    if not deadlines:
                        kept.append(x)
                    elif deadlines != DEADLINE_KINDS:  # one of the two cancelled: work out the other
                        kept.extend(t for t in x.timers(env) if t.kind not in change.kinds)
                elif not (isinstance(x, ScheduleTimer) and x.kind in change.kinds):
                    kept.append(x)
            out = kept
            if stored_before:
                out.append(change)
        else:
            out.append(change)
    return out
