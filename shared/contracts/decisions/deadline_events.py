"""The case's term: the timers the service sets (`TimerKind`, the entitlement's included), the
warning before the due date, its breach, and an extension.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.contracts.decisions.case_events import CaseEvent

TimerKind = Literal[
    "deadline_approaching",
    "deadline_breached",
    "reconfirmation_due",
    "reconfirmation_missed",
    "child_turns_18",
    "deprivation_ends",
]


class DeadlineApproaching(CaseEvent):
    event_name = "decision.deadline_approaching"

    office_id: str
    due_at: datetime
    share: str
    fired_at: datetime


class DeadlineBreached(CaseEvent):
    event_name = "decision.deadline_breached"

    office_id: str
    due_at: datetime
    fired_at: datetime


class TermExtended(CaseEvent):
    event_name = "decision.term_extended"

    reason: str = Field(min_length=1, max_length=2000)
    previous_due_at: datetime | None
    new_due_at: datetime
    extended_by: str
    extended_at: datetime
