"""The status projection's rows folded in memory: one function per event, the same for the live
projector, a replay into a fresh schema and a point-in-time view (`qyzmet status --as-of`).

A row is a dict of the `applications` columns (Python values as asyncpg reads and writes them);
a history entry is a tuple of the `application_history` columns. Events are read from their
stored JSON as the contract wrote it (`model_dump(mode="json")`), without building the pydantic
model: a replay reads millions of them. An event stored under an older schema version is
upcast through the registry first, so the fields read here are always the current ones.

Every rule mirrors what the view promises (`domain/status.py`): an event applies once (a row
remembers the stream version it last applied, `last_version`), a case step moves the status by
the ordering rule of `next_status`, and a step's facts and its complaint or notification entry
are kept whether or not it moved the status.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import cache, lru_cache
from typing import Any

from services.intake.domain.status import STEP_STATUS, ApplicationStatus, StatusPoint, next_status
from services.intake.domain.status import ApplicationStatus as S
from shared.contracts.application_progress import (
    INTAKE_STORED_EVENTS,
    CaseProgressRecorded,
    WithdrawalOverridden,
)
from shared.contracts.applications import (
    ApplicationRejectedAtIntake,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    DocumentsSupplemented,
)
from shared.contracts.event import ce_type_of
from shared.eventstore import StoredEvent

Row = dict[str, Any]
HistoryEntry = tuple[str, int, str, datetime, str | None, str | None]
"""(application_id, version, event_type, recorded_at, actor, status)."""

COLUMNS: tuple[str, ...] = (
    "application_id", "registration_number", "status", "service_id", "subtype", "edition_id", "channel",
    "office_id", "region", "received_by", "submitted_at", "due_at", "documents", "problems",
    "applicant_iin", "correlation_id", "updated_at", "last_version", "is_open", "status_at", "executor",
    "inspection_date", "decision_outcome", "decided_at", "decision_grounds", "complaints", "notifications",
    "result_collection", "result_collection_at", "decision_event_id",
)  # fmt: skip
HISTORY_COLUMNS = ("application_id", "version", "event_type", "recorded_at", "actor", "status")

SUBMITTED = ApplicationSubmitted.event_name
REJECTED = ApplicationRejectedAtIntake.event_name
SUPPLEMENTED = DocumentsSupplemented.event_name
WITHDRAWN = ApplicationWithdrawn.event_name
PROGRESS = CaseProgressRecorded.event_name
OVERRIDDEN = WithdrawalOverridden.event_name
_OPENING = frozenset({SUBMITTED, REJECTED})
"""The events that make an application's row (when it has none)."""


_STATUSES = {status.value: status for status in ApplicationStatus}
"""Status by its value (a dictionary look-up: an enum call per event costs more)."""
_VALUES = {status: status.value for status in ApplicationStatus}
"""A status's value (a dictionary look-up: `.value` is a Python-level property)."""


@cache
def _current_versions() -> dict[str, int]:
    return {cls.event_name: cls.event_version for cls in INTAKE_STORED_EVENTS.classes()}


def event_data(stored: StoredEvent) -> dict[str, Any]:
    """The event's fields as the current contract version writes them."""
    return current_data(stored.event_type, stored.schema_version, stored.data)


def current_data(kind: str, schema_version: int, data: dict[str, Any]) -> dict[str, Any]:
    """`data` of an event `kind` stored under `schema_version`, as the current version writes it."""
    if _current_versions().get(kind) == schema_version:
        return data
    event = INTAKE_STORED_EVENTS.decode(ce_type_of(kind, schema_version), data)
    dumped: dict[str, Any] = event.model_dump(mode="json")
    return dumped


def current_versions() -> dict[str, int]:
    """The current schema version of every event the fold reads, by event type."""
    return dict(_current_versions())


@lru_cache(maxsize=65_536)
def application_key(text: str) -> str:
    """The application id in its canonical text form: the key of `rows` (strings hash faster
    than UUID objects, and a replay looks rows up several times per event)."""
    return str(uuid.UUID(text))


def application_of(stored: StoredEvent) -> str | None:
    """The application an intake event is about (None for an event the view does not show)."""
    if stored.event_type not in _current_versions():
        return None
    return application_key(event_data(stored)["application_id"])


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def apply(rows: dict[str, Row | None], stored: StoredEvent) -> HistoryEntry | None:
    """Fold one stored event into `rows` (`application_key` -> row, None: known not to exist);
    return the history entry it adds, or None when the application has no row."""
    data = event_data(stored)
    meta = stored.metadata
    return fold(
        rows, application_key(data["application_id"]), stored.event_type, stored.version,
        stored.recorded_at, meta.get("actor"), meta.get("correlation_id"), data,
    )  # fmt: skip


def fold(
    rows: dict[str, Row | None],
    app: str,
    kind: str,
    version: int,
    recorded_at: datetime,
    actor: str | None,
    correlation_id: str | None,
    data: Mapping[str, Any],
) -> HistoryEntry | None:
    """`apply` on an event given by parts: its application (`application_key`), type, stream
    version, recording time, the actor and correlation id of its metadata, and its data as the
    current contract writes it (a mapping with at least the keys `status_read.TEXT_FIELDS` and
    `JSON_FIELDS` name: a bulk replay reads only those)."""
    row = rows.get(app)
    if row is None:
        if kind not in _OPENING:
            return None
        row = rows[app] = _new_row(app, kind, version, recorded_at, correlation_id, data)
    fresh = row["last_version"] < version
    if kind == PROGRESS:
        at = datetime.fromisoformat(data["occurred_at"])  # required: when the step was recorded
        if fresh:
            _progress(row, version, recorded_at, data, at)
        return (app, version, data["source_event_type"], at, data.get("recorded_by"), row["status"])
    if kind == SUPPLEMENTED and fresh:
        row["documents"] = [*row["documents"], *(d["document_id"] for d in data["documents"])]
        _touch(row, version, recorded_at)
    elif kind == WITHDRAWN and fresh:
        _set_status(row, version, recorded_at, StatusPoint(S.WITHDRAWN))
    elif kind == OVERRIDDEN and fresh:
        _set_status(row, version, recorded_at, StatusPoint(S.DECIDED, _time(data["decided_at"])))
    return (app, version, kind, recorded_at, actor, row["status"])


def _new_row(
    app: str, kind: str, version: int, recorded_at: datetime, correlation: str | None, data: Mapping[str, Any]
) -> Row:
    submitted = kind == SUBMITTED
    return {
        "application_id": app,
        "registration_number": data["registration_number"] if submitted else None,
        "status": S.SUBMITTED.value if submitted else S.REJECTED.value,
        "service_id": data["service_id"],
        "subtype": data.get("subtype") if submitted else None,
        "edition_id": data.get("edition_id"),
        "channel": data["channel"],
        "office_id": data["office_id"],
        "region": data.get("region"),
        "received_by": data["received_by"],
        "submitted_at": _time(data["received_at"] if submitted else data["rejected_at"]),
        "due_at": _time(data.get("due_at")) if submitted else None,
        "documents": [d["document_id"] for d in data["documents"]] if submitted else [],
        "problems": [] if submitted else list(data["problems"]),
        "applicant_iin": data["applicant"]["iin"] if submitted else data.get("applicant_iin"),
        "correlation_id": correlation,
        "updated_at": recorded_at,
        "last_version": version,
        "is_open": submitted,
        "status_at": None,
        "executor": None,
        "inspection_date": None,
        "decision_outcome": None,
        "decided_at": None,
        "decision_grounds": [],
        "complaints": {},
        "notifications": {},
        "result_collection": None,
        "result_collection_at": None,
        "decision_event_id": None,
    }


def _touch(row: Row, version: int, recorded_at: datetime) -> None:
    row["updated_at"] = recorded_at
    row["last_version"] = version


def _set_status(row: Row, version: int, recorded_at: datetime, point: StatusPoint) -> None:
    row["status"] = _VALUES[point.status]
    row["status_at"] = point.at
    row["is_open"] = point.is_open
    _touch(row, version, recorded_at)


def _progress(
    row: Row, version: int, recorded_at: datetime, data: Mapping[str, Any], occurred_at: datetime
) -> None:
    """A case step recorded at `occurred_at`: the status moves as `domain/status.py` says; the
    step's facts (executor, inspection date, decision, new due date) are kept whether or not it
    moved the status."""
    step = data["step"]
    if STEP_STATUS[step] is None:  # a step of the history only: `next_status` keeps the status
        _touch(row, version, recorded_at)
    else:
        current = StatusPoint(_STATUSES[row["status"]], row["status_at"])
        _set_status(row, version, recorded_at, next_status(current, step, occurred_at))
    if step in _KEYED_STEPS:
        entry = _keyed_entry(step, data, occurred_at)
        if entry is not None:
            column, key, value = entry
            merged = dict(row[column])
            merged[key] = {**merged.get(key, {}), **value}
            row[column] = merged
    facts = _FACTS.get(step)
    if facts is not None:
        row.update(facts(data))


def _decision(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "decision_outcome": data.get("outcome"),
        "decided_at": _time(data.get("decided_at")),
        "decision_grounds": [{"id": g["id"], "text": g["text"]} for g in data.get("grounds") or ()],
        "decision_event_id": data["source_event_id"],
    }


def _reopening(data: Mapping[str, Any]) -> dict[str, Any]:
    """The decision is set aside (the history keeps it); a new term runs."""
    return {
        "due_at": _time(data.get("due_at")),
        "decision_outcome": None,
        "decided_at": None,
        "decision_grounds": [],
        "decision_event_id": None,
    }


def _collection(outcome: str) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    return lambda data: {"result_collection": outcome, "result_collection_at": _time(data["occurred_at"])}


_FACTS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "executor_assigned": lambda data: {"executor": data.get("executor")},
    "inspection_scheduled": lambda data: {"inspection_date": _day(data.get("inspection_date"))},
    "decision_made": _decision,
    "term_extended": lambda data: {"due_at": _time(data.get("due_at"))},
    "reopened": _reopening,
    "result_collected": _collection("collected"),
    "result_uncollected": _collection("uncollected"),
}
"""Columns a step sets besides the status, by step (a step not here sets none)."""


_KEYED_STEPS = frozenset(
    {
        "complaint_registered",
        "complaint_review_extended",
        "complaint_resolved",
        "complaint_escalated",
        "notification_state_changed",
    }
)


def _keyed_entry(
    step: str, data: Mapping[str, Any], occurred_at: datetime
) -> tuple[str, str, dict[str, Any]] | None:
    """(column, key, fields merged into its entry) for a step of `_KEYED_STEPS` about one
    complaint or one notification of the application; None if it names neither."""
    complaint = data.get("complaint_id")
    at = occurred_at.isoformat()
    if step == "complaint_registered" and complaint:
        return (
            "complaints",
            complaint,
            {"registered_at": at, "review_due_on": _iso(data.get("review_due_on"))},
        )
    if step == "complaint_review_extended" and complaint:
        return "complaints", complaint, {"review_due_on": _iso(data.get("review_due_on")), "extended": True}
    if step == "complaint_resolved" and complaint:
        return "complaints", complaint, {"outcome": data.get("complaint_outcome"), "resolved_at": at}
    if step == "complaint_escalated" and complaint:
        return "complaints", complaint, {"escalated_to": data.get("escalated_to"), "escalated_at": at}
    notification = data.get("notification_id")
    if step == "notification_state_changed" and notification:
        entry = {
            "kind": data.get("notification_kind"),
            "channel": data.get("notification_channel"),
            "state": data.get("delivery_state"),
            "at": at,
            "trigger_event_id": data.get("trigger_event_id"),
        }
        return "notifications", notification, entry
    return None


def _iso(day: str | None) -> str | None:
    parsed = _day(day)
    return parsed.isoformat() if parsed else None
