"""The status fold's events read in bulk (`StatusReplay`): of each event's data only the keys the
fold reads (`TEXT_FIELDS`, `JSON_FIELDS`), picked out by PostgreSQL.

A replay's time went on the payloads: PostgreSQL printing every `jsonb` as text (a submission
carries the applicant and the documents, a case step some twenty keys, most of them null) and
Python decoding it, for a fold that reads a few keys of each. Here the read statement hands each
key the fold reads as a column of its own (`data->>'key'`, or the JSON value of a key it reads
inside) and the fold gets the row itself as the event's data: a missing key reads as None, as
`dict.get` gives it. An event stored under an older schema version, or of a type the fold does
not know, comes with its whole data, upcast (or refused) as the live projector does.

200,000 events (bench/replay_bench.py's log), reading the pages alone: Python's CPU 1.6-1.9 s with
the whole payloads decoded -> 0.9-1.0 s; PostgreSQL's 1.1 -> 0.9 s (with the page planned in
`shared.replay.reading`, not in the store's function).
"""

from __future__ import annotations

from typing import Any

import asyncpg

from services.intake.adapters.status_rows import (
    HistoryEntry,
    Row,
    application_key,
    current_data,
    current_versions,
    fold,
)

TEXT_FIELDS: tuple[str, ...] = (
    "application_id", "registration_number", "service_id", "subtype", "edition_id", "channel", "office_id",
    "region", "received_by", "received_at", "rejected_at", "due_at", "applicant_iin", "decided_at", "step",
    "occurred_at", "source_event_type", "source_event_id", "recorded_by", "executor", "inspection_date",
    "outcome", "complaint_id", "review_due_on", "complaint_outcome", "escalated_to", "notification_id",
    "notification_kind", "notification_channel", "delivery_state", "trigger_event_id",
)  # fmt: skip
"""The keys of an event's data the fold reads as text (strings, ISO times and days, or null)."""
JSON_FIELDS: tuple[str, ...] = ("documents", "problems", "applicant", "grounds")
"""The keys of an event's data whose JSON value the fold reads inside. Together with
`TEXT_FIELDS`, every key `status_rows.fold` may read: the read hands over only these. A test folds
every event type and step from both (tests/replay/test_status_fields.py) and checks the fold
reads no other key."""

_HEAD: tuple[str, ...] = (
    "position", "txid", "kind", "version", "schema_version", "recorded_at", "actor", "correlation_id",
    "whole",
)  # fmt: skip
"""The columns before the data's keys, in this order (`fold_page` reads them by position)."""
_APPLICATION = len(_HEAD) + TEXT_FIELDS.index("application_id")


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def fold_columns() -> str:
    """The select list of the read (the events table as `e`)."""
    clash = set(_HEAD) & {*TEXT_FIELDS, *JSON_FIELDS}
    assert not clash, f"data keys named as the read's own columns: {sorted(clash)}"
    versions = " ".join(f"WHEN {_quoted(k)} THEN {int(v)}" for k, v in sorted(current_versions().items()))
    head = (
        "e.position, e.txid::text::bigint AS txid, e.event_type AS kind, e.version, e.schema_version,"
        " e.recorded_at, e.metadata->>'actor' AS actor, e.metadata->>'correlation_id' AS correlation_id,"
        f" CASE WHEN e.schema_version IS DISTINCT FROM (CASE e.event_type {versions} END)"
        " THEN e.data END AS whole"
    )
    keys = [f"e.data->>{_quoted(k)} AS {k}" for k in TEXT_FIELDS]
    keys += [f"e.data->{_quoted(k)} AS {k}" for k in JSON_FIELDS]
    return ", ".join([head, *keys])


def applications_of(page: list[asyncpg.Record], upcast: dict[int, dict[str, Any]]) -> list[str]:
    """The application of each event of a page read with `fold_columns` (`application_key`); the
    data of each event stored under an older schema version, upcast, into `upcast` by position."""
    return [application_key(row[_APPLICATION]) if row[8] is None else _upcast(row, upcast) for row in page]


def fold_page(
    rows: dict[str, Row | None],
    page: list[asyncpg.Record],
    apps: list[str],
    upcast: dict[int, dict[str, Any]],
    history: list[HistoryEntry],
) -> None:
    """`status_rows.fold` each event of `page` (of the applications and upcast data
    `applications_of` gave) into `rows`, its history entry appended to `history`. The rows go to
    the fold as the events' data; an event stored under an older schema version as its upcast data."""
    for app, row in zip(apps, page, strict=True):
        data = row if row[8] is None else upcast[row[0]]
        entry = fold(rows, app, row[2], row[3], row[5], row[6], row[7], data)
        if entry is not None:
            history.append(entry)


def _upcast(row: asyncpg.Record, upcast: dict[int, dict[str, Any]]) -> str:
    data = upcast[row[0]] = current_data(row[2], row[4], row[8])
    return application_key(data["application_id"])
