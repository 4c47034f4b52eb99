"""The case aggregate's state and `evolve(state, event) -> state` (pure)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from shared.contracts.decisions import (
    ApplicationReopened,
    CaseFlagged,
    CaseOpened,
    CaseWithdrawn,
    DeadlineApproaching,
    DeadlineBreached,
    DecisionDrafted,
    DecisionMade,
    DecisionReturnedForRework,
    DecisionSubmittedForSignature,
    DocumentsChecked,
    EntitlementRestored,
    EntitlementStarted,
    EntitlementSuspended,
    EntitlementTerminated,
    ExecutorAssigned,
    InspectionCompleted,
    InspectionScheduled,
    ReconfirmationDue,
    ReconfirmationReceived,
    TermExtended,
)
from shared.contracts.event import DomainEvent


class Status(StrEnum):
    NEW = "new"
    REGISTERED = "registered"
    """Waiting for the head to assign an executor."""
    UNDER_REVIEW = "under_review"
    AWAITING_INSPECTION = "awaiting_inspection"
    AWAITING_SIGNATURE = "awaiting_signature"
    DECIDED = "decided"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    ENDED = "ended"
    WITHDRAWN = "withdrawn"
    """Closed undecided: the applicant withdrew the application."""


OPEN_STATUSES = frozenset(
    {Status.REGISTERED, Status.UNDER_REVIEW, Status.AWAITING_INSPECTION, Status.AWAITING_SIGNATURE}
)
ENTITLEMENT_STATUSES = frozenset({Status.ACTIVE, Status.SUSPENDED})


@dataclass(frozen=True)
class CaseState:
    application_id: str
    version: int = 0
    status: Status = Status.NEW
    opened: CaseOpened | None = None
    due_at: datetime | None = None
    executor: str | None = None
    inspection_date: date | None = None
    inspection: InspectionCompleted | None = None
    documents_complete: bool | None = None
    draft: DecisionDrafted | None = None
    decision: DecisionMade | None = None
    last_decision: DecisionMade | None = None
    """The latest decision signed, also after a reopening set it aside (`decision` is None then)."""
    flags: tuple[CaseFlagged, ...] = ()
    approaching_fired: bool = False
    breached: bool = False
    extensions: int = 0
    returns: int = 0
    reopened: int = 0
    reconfirm_by: date | None = None
    suspended_until: date | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def office_id(self) -> str:
        assert self.opened is not None
        return self.opened.office_id


def initial(application_id: str) -> CaseState:
    return CaseState(application_id=application_id)


def evolve(state: CaseState, event: DomainEvent) -> CaseState:
    s = replace(state, version=state.version + 1)
    if isinstance(event, CaseOpened):
        status = Status.REGISTERED if event.assignment_required else Status.UNDER_REVIEW
        return replace(s, opened=event, due_at=event.due_at, status=status)
    if isinstance(event, ExecutorAssigned):
        # A re-assignment while the commission's act is awaited does not skip the inspection.
        status = s.status if s.status is Status.AWAITING_INSPECTION else Status.UNDER_REVIEW
        return replace(s, executor=event.executor, status=status)
    if isinstance(event, DocumentsChecked):
        return replace(s, documents_complete=event.complete)
    if isinstance(event, InspectionScheduled):
        # A new inspection (after a reopening) replaces the earlier act: a draft waits for the new one.
        return replace(
            s, inspection_date=event.inspection_date, inspection=None, status=Status.AWAITING_INSPECTION
        )
    if isinstance(event, InspectionCompleted):
        return replace(s, inspection=event, status=Status.UNDER_REVIEW)
    if isinstance(event, DecisionDrafted):
        return replace(s, draft=event, status=Status.AWAITING_SIGNATURE)
    if isinstance(event, DecisionSubmittedForSignature):
        return replace(s, status=Status.AWAITING_SIGNATURE)
    if isinstance(event, DecisionReturnedForRework):
        return replace(s, draft=None, returns=s.returns + 1, status=Status.UNDER_REVIEW)
    if isinstance(event, DecisionMade):
        return replace(s, decision=event, last_decision=event, status=Status.DECIDED)
    if isinstance(event, CaseFlagged):
        return replace(s, flags=(*s.flags, event))
    if isinstance(event, DeadlineApproaching):
        return replace(s, approaching_fired=True)
    if isinstance(event, DeadlineBreached):
        return replace(s, breached=True)
    if isinstance(event, TermExtended):
        return replace(s, due_at=event.new_due_at, extensions=s.extensions + 1, approaching_fired=False)
    if isinstance(event, EntitlementStarted):
        return replace(s, status=Status.ACTIVE, reconfirm_by=event.reconfirm_by)
    if isinstance(event, EntitlementSuspended):
        return replace(s, status=Status.SUSPENDED, suspended_until=event.until)
    if isinstance(event, EntitlementRestored):
        return replace(s, status=Status.ACTIVE, suspended_until=None)
    if isinstance(event, EntitlementTerminated):
        return replace(s, status=Status.ENDED)
    if isinstance(event, ReconfirmationReceived):
        return replace(s, reconfirm_by=event.next_due_by)
    if isinstance(event, ReconfirmationDue):
        return s
    if isinstance(event, CaseWithdrawn):
        return replace(s, status=Status.WITHDRAWN, draft=None)
    if isinstance(event, ApplicationReopened):
        return replace(
            s,
            status=Status.UNDER_REVIEW,
            draft=None,
            decision=None,
            due_at=event.new_due_at,
            approaching_fired=False,
            breached=False,
            reopened=s.reopened + 1,
            reconfirm_by=None,
            suspended_until=None,
        )
    return s


def evolve_all(state: CaseState, events: list[DomainEvent]) -> CaseState:
    for event in events:
        state = evolve(state, event)
    return state


def replay(application_id: str, events: list[DomainEvent]) -> CaseState:
    return evolve_all(initial(application_id), events)
