"""A running entitlement after an approval: started, suspended, restored or terminated under a
catalog ground, and its quarterly re-confirmation.
"""

from __future__ import annotations

from datetime import date, datetime

from shared.contracts.decisions.case_events import CaseEvent
from shared.contracts.decisions.parts import Ground, Money


class EntitlementStarted(CaseEvent):
    event_name = "entitlement.started"

    service_id: str
    office_id: str
    start: date
    amount: Money | None = None
    reconfirm_by: date | None = None


class EntitlementSuspended(CaseEvent):
    event_name = "entitlement.suspended"

    ground: Ground
    effective: date
    until: date | None = None
    recorded_by: str


class EntitlementRestored(CaseEvent):
    event_name = "entitlement.restored"

    ground: Ground
    effective: date
    recorded_by: str


class EntitlementTerminated(CaseEvent):
    event_name = "entitlement.terminated"

    ground: Ground
    effective: date
    recorded_by: str


class ReconfirmationDue(CaseEvent):
    event_name = "entitlement.reconfirmation_due"

    due_by: date
    fired_at: datetime


class ReconfirmationReceived(CaseEvent):
    event_name = "entitlement.reconfirmation_received"

    received_on: date
    next_due_by: date
    recorded_by: str
