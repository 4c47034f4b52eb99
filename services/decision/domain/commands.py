"""Commands to the case aggregate (plain frozen data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from shared.contracts.applications import ApplicationSubmitted
from shared.contracts.decisions import DecisionOutcome, HouseholdMember, InspectionAct, TimerKind
from shared.domain.actor import SYSTEM_ROLE
from shared.domain.actor import Actor as Actor  # re-exported: commands name their actor

SYSTEM = Actor(subject="system:decision", role=SYSTEM_ROLE, office="*")
"""The decision service itself: automated decisions and timers."""


@dataclass(frozen=True)
class OpenCase:
    submitted: ApplicationSubmitted


@dataclass(frozen=True)
class AssignExecutor:
    actor: Actor
    executor: str


@dataclass(frozen=True)
class CheckDocuments:
    actor: Actor
    complete: bool
    notes: str = ""


@dataclass(frozen=True)
class ScheduleInspection:
    actor: Actor
    inspection_date: date
    inspecting_body: str = "district_commission"
    communicated_to_applicant: bool = True


@dataclass(frozen=True)
class RecordInspection:
    actor: Actor
    act: InspectionAct


@dataclass(frozen=True)
class DraftDecision:
    actor: Actor
    household: tuple[HouseholdMember, ...] | None = None
    housing_costs: str | None = None
    registered_unemployed: bool | None = None
    subject_birth_date: date | None = None
    amount: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    outcome: DecisionOutcome | None = None
    """Only where no computable rule decides (the officer records the outcome)."""
    grounds: tuple[str, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ReturnForRework:
    actor: Actor
    reason: str


@dataclass(frozen=True)
class SignDecision:
    actor: Actor


@dataclass(frozen=True)
class ExtendTerm:
    actor: Actor
    reason: str


@dataclass(frozen=True)
class FireTimer:
    kind: TimerKind
    target: datetime
    """The instant or date the timer was set for (stale timers are ignored)."""


Fact = Literal[
    "death",
    "moved_away",
    "full_state_care",
    "false_information",
    "child_turned_18",
    "refused_work",
    "placed_in_job",
    "reconfirmation_received",
]


@dataclass(frozen=True)
class RecordFact:
    actor: Actor
    fact: Fact
    on: date
    ground_id: str | None = None
    """The catalog ground the fact falls under, when the edition has more than one candidate."""


@dataclass(frozen=True)
class ReopenApplication:
    actor: Actor
    complaint_id: str
    reason: str
    contested_decided_at: datetime | None = None
    """When the decision the complaint contested was made: the case is reopened only while that
    decision is in force (None: whichever decision is in force)."""


@dataclass(frozen=True)
class CloseWithdrawn:
    """The applicant withdrew the application at intake (`ApplicationWithdrawn`): close the case
    if no decision was signed; otherwise the decision stands (see `domain/withdrawal.py`)."""

    actor: Actor
    withdrawn_by: str
    withdrawn_at: datetime


Command = (
    OpenCase
    | AssignExecutor
    | CheckDocuments
    | ScheduleInspection
    | RecordInspection
    | DraftDecision
    | ReturnForRework
    | SignDecision
    | ExtendTerm
    | FireTimer
    | RecordFact
    | ReopenApplication
    | CloseWithdrawn
)
