"""What each notification says: the template data built from the event that caused it (pure).

The data holds no personal data (no name, address, phone or e-mail): letters greet the
"applicant", and the contacts stay in the recipients table. Dates are the office's local dates
(dd.mm.yyyy); money is the event's decimal string in tenge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from shared.contracts.applications import ApplicationRejectedAtIntake, ApplicationSubmitted
from shared.contracts.complaints import ComplaintRegistered, ComplaintResolved, ComplaintReviewExtended
from shared.contracts.decisions import DecisionMade, Ground, InspectionScheduled, TermExtended
from shared.contracts.notifications import NotificationKind, ResultUncollected

KAZAKHSTAN = ZoneInfo("Asia/Almaty")
"""UTC+5 everywhere in Kazakhstan since March 2024; the catalog's region zones override it."""


def day(value: date | datetime | None, zone: ZoneInfo = KAZAKHSTAN) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.astimezone(zone).date()
    return value.strftime("%d.%m.%Y")


_SEED_LINES = re.compile(r"(?:[,;]\s*)?(?:\b\d{3}\s+)?\bL\d+(?:-\d+)?\b")


def without_seed_lines(text: str) -> str:
    """The text without the catalog's internal seed line references ("(L176-178)", "003 L121-133"):
    they point into the project's seed files and mean nothing to an applicant."""
    text = _SEED_LINES.sub("", text)
    text = re.sub(r"\(\s*[,;]?\s*\)", "", text)
    text = re.sub(r"\(\s*[,;]\s*", "(", text)
    text = re.sub(r"\s+([,.;:)])", r"\1", text)
    return " ".join(text.split())


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
    missing = [p.name_kk or without_seed_lines(p.message) for p in event.problems]
    return {"service_name": service_name, "refused_on": day(event.rejected_at, zone), "missing": missing}


def inspection_scheduled(event: InspectionScheduled, facts: CaseFacts) -> dict[str, Any]:
    return {
        "registration_number": facts.registration_number,
        "service_name": facts.service_name,
        "inspection_date": day(event.inspection_date),
    }


def _ground(ground: Ground) -> dict[str, str | None]:
    """A ground for the letter: the Kazakh act's wording when the catalog has it (both languages
    quote it; no Russian wording exists), and the English summary the letter falls back to."""
    return {"text_kk": ground.text_kk, "summary_en": without_seed_lines(ground.text)}


def decision_made(
    event: DecisionMade, facts: CaseFacts, zone: ZoneInfo, collect_in_person: bool
) -> dict[str, Any]:
    return {
        "registration_number": facts.registration_number,
        "service_name": facts.service_name,
        "outcome": event.outcome,
        "decided_on": day(event.decided_at, zone),
        "grounds": [_ground(ground) for ground in event.grounds],
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
