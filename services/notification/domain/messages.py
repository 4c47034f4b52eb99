"""What each notification says: the template data built from the event that caused it (pure).

The data holds no personal data (no name, address, phone or e-mail): letters greet the
"applicant", and the contacts stay in the recipients table. Dates are the office's local dates
(dd.mm.yyyy); money is the event's decimal string in tenge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from shared.contracts.applications import ApplicationRejectedAtIntake, ApplicationSubmitted
from shared.contracts.complaints import ComplaintRegistered, ComplaintResolved, ComplaintReviewExtended
from shared.contracts.decisions import DecisionMade, InspectionScheduled, TermExtended
from shared.contracts.notifications import NotificationKind, ResultUncollected

KAZAKHSTAN = ZoneInfo("Asia/Almaty")
"""UTC+5 everywhere in Kazakhstan since March 2024; the catalog's region zones override it."""


def day(value: date | datetime | None, zone: ZoneInfo = KAZAKHSTAN) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.astimezone(zone).date()
    return value.strftime("%d.%m.%Y")


@dataclass(frozen=True)
class CaseFacts:
    """What the notification service knows of the application (from its submission)."""

    registration_number: str
    service_name: str
    """In the recipient's language."""


def talon_issued(event: ApplicationSubmitted, facts: CaseFacts, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "registration_number": event.registration_number,
        "service_name": facts.service_name,
        "received_on": day(event.received_at, zone),
        "due_on": day(event.due_at, zone),
    }


def intake_refused(event: ApplicationRejectedAtIntake, service_name: str, zone: ZoneInfo) -> dict[str, Any]:
    missing = [p.name_kk or p.message for p in event.problems]
    return {"service_name": service_name, "refused_on": day(event.rejected_at, zone), "missing": missing}


def inspection_scheduled(event: InspectionScheduled, facts: CaseFacts) -> dict[str, Any]:
    return {
        "registration_number": facts.registration_number,
        "service_name": facts.service_name,
        "inspection_date": day(event.inspection_date),
    }


def decision_made(
    event: DecisionMade, facts: CaseFacts, zone: ZoneInfo, collect_in_person: bool
) -> dict[str, Any]:
    return {
        "registration_number": facts.registration_number,
        "service_name": facts.service_name,
        "outcome": event.outcome,
        "decided_on": day(event.decided_at, zone),
        "grounds": [ground.text for ground in event.grounds],
        "amount": event.amount,
        "period_start": day(event.period_start),
        "period_end": day(event.period_end),
        "collect_in_person": collect_in_person and event.outcome != "information",
    }


def term_extended(event: TermExtended, facts: CaseFacts, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "registration_number": facts.registration_number,
        "service_name": facts.service_name,
        "new_due_on": day(event.new_due_at, zone),
        "reason": event.reason,
    }


def complaint_registered(event: ComplaintRegistered, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "registration_number": event.registration_number,
        "registered_on": day(event.registered_at, zone),
        "review_due_on": day(event.review_due_on),
    }


def complaint_review_extended(event: ComplaintReviewExtended, registration_number: str) -> dict[str, Any]:
    return {
        "registration_number": registration_number,
        "previous_due_on": day(event.previous_due_on),
        "review_due_on": day(event.review_due_on),
        "reason": event.reason,
    }


def complaint_resolved(event: ComplaintResolved, registration_number: str, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "registration_number": registration_number,
        "outcome": event.outcome,
        "reasoning": event.reasoning,
        "resolved_on": day(event.resolved_at, zone),
    }


def result_uncollected(event: ResultUncollected, facts: CaseFacts) -> dict[str, Any]:
    return {
        "registration_number": facts.registration_number,
        "service_name": facts.service_name,
        "kept_until": day(event.kept_until),
    }


KINDS: tuple[NotificationKind, ...] = (
    "talon_issued",
    "intake_refused",
    "inspection_scheduled",
    "decision_made",
    "term_extended",
    "complaint_registered",
    "complaint_review_extended",
    "complaint_resolved",
    "result_uncollected",
)
