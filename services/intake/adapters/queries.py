"""Reads of the status projection (never of the event store): one application, lists, ИИН lookup."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from shared.db.identifiers import checked_identifier

_OVERDUE = "(is_open AND due_at IS NOT NULL AND due_at < now())"
"""Open (awaiting its decision: `domain/status.py` OPEN_STATUSES) and past its due date. Decided,
withdrawn and refused-at-intake applications are never overdue."""

_COLUMNS = (
    "application_id, registration_number, status, status_at, service_id, subtype, edition_id, channel,"
    " office_id, region, received_by, submitted_at, due_at, documents, problems, updated_at, executor,"
    " inspection_date, decision_outcome, decided_at, decision_grounds, decision_event_id, complaints,"
    " notifications,"
    f" result_collection, result_collection_at, {_OVERDUE} AS overdue"
)


class InvalidCursor(ValueError):
    pass


def encode_cursor(submitted_at: datetime, application_id: uuid.UUID) -> str:
    raw = f"{submitted_at.isoformat()}|{application_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, app = raw.partition("|")
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None:
            raise ValueError("naive time")
        return parsed, uuid.UUID(app)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor("the cursor is not one this API returned") from exc


@dataclass(frozen=True)
class ListFilter:
    offices: list[str] | None
    """None: every office (cross-office roles)."""
    received_by: str | None = None
    """Only what this person received (a ЦОН operator's own submissions)."""
    service: str | None = None
    status: str | None = None
    overdue: bool | None = None
    submitted_from: datetime | None = None
    submitted_to: datetime | None = None


class ApplicationQueries:
    def __init__(self, schema: str) -> None:
        self.schema = checked_identifier(schema)

    async def get(self, conn: asyncpg.Connection, application_id: uuid.UUID) -> dict[str, Any] | None:
        row = await conn.fetchrow(
            f"SELECT {_COLUMNS} FROM {self.schema}.applications WHERE application_id = $1", application_id
        )
        if row is None:
            return None
        history = await conn.fetch(
            f"SELECT version, event_type, recorded_at, actor, status FROM {self.schema}.application_history"
            " WHERE application_id = $1 ORDER BY version",
            application_id,
        )
        out = dict(row)
        out["history"] = [dict(h) for h in history]
        return out

    async def page(
        self, conn: asyncpg.Connection, where: ListFilter, cursor: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        clauses: list[str] = []
        args: list[Any] = []

        def arg(value: Any) -> str:
            args.append(value)
            return f"${len(args)}"

        if where.offices is not None:
            clauses.append(f"office_id = ANY({arg(where.offices)}::text[])")
        if where.received_by is not None:
            clauses.append(f"received_by = {arg(where.received_by)}")
        if where.service is not None:
            clauses.append(f"service_id = {arg(where.service)}")
        if where.status is not None:
            clauses.append(f"status = {arg(where.status)}")
        if where.overdue is True:
            clauses.append(_OVERDUE)
        elif where.overdue is False:
            clauses.append(f"NOT {_OVERDUE}")
        if where.submitted_from is not None:
            clauses.append(f"submitted_at >= {arg(where.submitted_from)}")
        if where.submitted_to is not None:
            clauses.append(f"submitted_at < {arg(where.submitted_to)}")
        if cursor is not None:
            at, app = decode_cursor(cursor)
            clauses.append(f"(submitted_at, application_id) < ({arg(at)}, {arg(app)})")
        sql = f"SELECT {_COLUMNS} FROM {self.schema}.applications"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += f" ORDER BY submitted_at DESC, application_id DESC LIMIT {arg(limit + 1)}"
        rows = [dict(r) for r in await conn.fetch(sql, *args)]
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = encode_cursor(rows[-1]["submitted_at"], rows[-1]["application_id"])
        return rows, next_cursor

    async def by_iin(
        self, conn: asyncpg.Connection, iin: str, offices: list[str] | None, received_by: str | None = None
    ) -> list[dict[str, Any]]:
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM {self.schema}.applications WHERE applicant_iin = $1"
            " AND ($2::text[] IS NULL OR office_id = ANY($2::text[]))"
            " AND ($3::text IS NULL OR received_by = $3)"
            " ORDER BY submitted_at DESC LIMIT 200",
            iin,
            offices,
            received_by,
        )
        return [dict(r) for r in rows]
