"""Aggregate reads of the status projection for the operations console: counts by status and
service, open / overdue / approaching deadlines per office, decisions made in term per service,
and the latest decisions. No personal data: ids, services, offices, dates and counts only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg

from shared.db.identifiers import checked_identifier


@dataclass(frozen=True)
class SummaryFilter:
    offices: list[str] | None
    """None: every office (cross-office roles)."""
    received_by: str | None
    approaching: timedelta
    """An open application due within this time from now is approaching its deadline."""
    recent: int
    """How many of the latest decisions to list."""


class SummaryQueries:
    def __init__(self, schema: str) -> None:
        self.table = f"{checked_identifier(schema)}.applications"

    async def summary(self, conn: asyncpg.Connection, where: SummaryFilter) -> dict[str, Any]:
        scope = (
            "($1::text[] IS NULL OR office_id = ANY($1::text[])) AND ($2::text IS NULL OR received_by = $2)"
        )
        by_status = await conn.fetch(
            f"SELECT service_id, status, count(*) AS count FROM {self.table} WHERE {scope}"
            " GROUP BY service_id, status ORDER BY service_id, status",
            where.offices,
            where.received_by,
        )
        offices = await conn.fetch(
            "SELECT office_id, count(*) FILTER (WHERE is_open) AS open,"
            " count(*) FILTER (WHERE is_open AND due_at < now()) AS overdue,"
            " count(*) FILTER (WHERE is_open AND due_at >= now() AND due_at < now() + $3) AS approaching"
            f" FROM {self.table} WHERE {scope} GROUP BY office_id ORDER BY office_id",
            where.offices,
            where.received_by,
            where.approaching,
        )
        in_term = await conn.fetch(
            "SELECT service_id, count(*) AS decided,"
            " count(*) FILTER (WHERE due_at IS NULL OR decided_at <= due_at) AS decided_in_term"
            f" FROM {self.table} WHERE {scope} AND decided_at IS NOT NULL"
            " GROUP BY service_id ORDER BY service_id",
            where.offices,
            where.received_by,
        )
        recent = await conn.fetch(
            "SELECT application_id::text AS application_id, registration_number, service_id, office_id,"
            " decision_outcome AS outcome, decided_at, due_at"
            f" FROM {self.table} WHERE {scope} AND decided_at IS NOT NULL"
            " ORDER BY decided_at DESC, application_id DESC LIMIT $3",
            where.offices,
            where.received_by,
            where.recent,
        )
        return {
            "by_status": [dict(r) for r in by_status],
            "offices": [dict(r) for r in offices],
            "decided_in_term": [dict(r) for r in in_term],
            "recent_decisions": [dict(r) for r in recent],
        }
