"""A case's whole history across the services, in time order (pure: no IO).

Each service tells its own part: intake the application's steps (it also records the case's
steps from the decision service's topics), the decision service its case events, the complaints
service the complaints about it, the notification service what the applicant was told and how
delivery went. Only event names, times, statuses and officials' ids are shown: no event bodies
(which may hold a household's names and incomes)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Entry:
    at: datetime
    service: str
    what: str
    detail: str = ""


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return None


def _intake(view: Mapping[str, Any]) -> Iterable[Entry]:
    for item in view.get("history", []):
        at = _time(item.get("recorded_at"))
        if at is not None:
            parts = [f"status {item['status']}" if item.get("status") else "", item.get("actor") or ""]
            yield Entry(at, "intake", str(item["event_type"]), ", ".join(p for p in parts if p))


def _decision(history: Iterable[Mapping[str, Any]]) -> Iterable[Entry]:
    for item in history:
        at = _time(item.get("recorded_at"))
        if at is not None:
            yield Entry(at, "decision", str(item["type"]), f"case event {item.get('version', '')}".strip())


def _complaints(items: Iterable[Mapping[str, Any]]) -> Iterable[Entry]:
    for c in items:
        number = c.get("registration_number", "")
        registered = _time(c.get("registered_at"))
        if registered is not None:
            review = f"reviewed by {c.get('reviewing_office', '')}, due {c.get('review_due_on', '')}"
            yield Entry(registered, "complaints", "complaint.registered", f"{number}, {review}")
        resolved = _time(c.get("resolved_at"))
        if resolved is not None:
            yield Entry(resolved, "complaints", "complaint.resolved", f"{number}: {c.get('outcome', '')}")


def _notifications(items: Iterable[Mapping[str, Any]]) -> Iterable[Entry]:
    for n in items:
        label = f"{n.get('kind', '')} by {n.get('channel', '')}"
        for change in n.get("history", []):
            at = _time(change.get("changed_at"))
            if at is not None:
                yield Entry(at, "notification", f"notification.{str(change.get('state', '')).lower()}", label)


def merge(
    application: Mapping[str, Any] | None,
    case_history: Iterable[Mapping[str, Any]] | None,
    complaints: Iterable[Mapping[str, Any]] | None,
    notifications: Iterable[Mapping[str, Any]] | None,
) -> list[Entry]:
    """Every service's entries, oldest first (ties: in the order the services act)."""
    order = {"intake": 0, "decision": 1, "complaints": 2, "notification": 3}
    entries = [
        *(_intake(application) if application else ()),
        *(_decision(case_history) if case_history else ()),
        *(_complaints(complaints) if complaints else ()),
        *(_notifications(notifications) if notifications else ()),
    ]
    return sorted(entries, key=lambda e: (e.at, order[e.service]))
