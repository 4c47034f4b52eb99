"""Reads of the complaints projection and the read model: one complaint, the complaints about
an application, a reviewing office's queue, and the quality-indicator figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import asyncpg

from services.complaints.adapters.projection import COLUMNS
from shared.db.identifiers import checked_identifier

JUSTIFIED = ("upheld", "partly_upheld")


def _visible(offices: list[str] | None, first_arg: int) -> tuple[str, list[Any]]:
    """A filter to the complaints an office reader sees: registered at, about, or routed to one
    of `offices` (None: every complaint)."""
    if offices is None:
        return "", []
    n = first_arg
    return (
        f" AND (office_id = ANY(${n}::text[]) OR registered_at_office = ANY(${n}::text[])"
        f" OR reviewing_office = ANY(${n}::text[]))",
        [offices],
    )


class ComplaintQueries:
    def __init__(self, schema: str) -> None:
        name = checked_identifier(schema)
        self.complaints = f"{name}.complaints"
        self.decisions = f"{name}.known_decisions"

    async def one(self, conn: asyncpg.Connection, complaint_id: str) -> dict[str, Any] | None:
        row = await conn.fetchrow(
            f"SELECT {COLUMNS} FROM {self.complaints} WHERE complaint_id = $1", complaint_id
        )
        return None if row is None else _row(row)

    async def by_application(
        self, conn: asyncpg.Connection, application_id: str, offices: list[str] | None
    ) -> list[dict[str, Any]]:
        where, args = _visible(offices, 2)
        rows = await conn.fetch(
            f"SELECT {COLUMNS} FROM {self.complaints} WHERE application_id = $1{where}"
            " ORDER BY registered_at, complaint_id",
            application_id,
            *args,
        )
        return [_row(r) for r in rows]

    async def queue(
        self, conn: asyncpg.Connection, reviewing_office: str, include_resolved: bool, limit: int
    ) -> list[dict[str, Any]]:
        """The complaints routed to an office, the nearest due first (open ones only by default)."""
        status = "" if include_resolved else " AND status = 'registered'"
        rows = await conn.fetch(
            f"SELECT {COLUMNS} FROM {self.complaints} WHERE reviewing_office = $1{status}"
            " ORDER BY review_due_at NULLS LAST, complaint_id LIMIT $2",
            reviewing_office,
            limit,
        )
        return [_row(r) for r in rows]

    async def figures(
        self, conn: asyncpg.Connection, start: date, end: date, service: str | None, office: str | None
    ) -> dict[str, Any]:
        """Quality-indicator figures over [start, end] (whole days, UTC), see DOMAIN.md §10:
        - applicants served: distinct applications with a decision made in the period (a
          reopened and decided-again application counts once);
        - justified complaints: complaints answered in the period as upheld or partly upheld;
          within term: those answered no later than their (possibly extended) review term;
        filtered by the contested service and office."""
        since = datetime.combine(start, time(), tzinfo=UTC)
        until = datetime.combine(end + timedelta(days=1), time(), tzinfo=UTC)
        served: int = await conn.fetchval(
            f"SELECT count(DISTINCT application_id) FROM {self.decisions}"
            " WHERE decided_at >= $1 AND decided_at < $2"
            " AND ($3::text IS NULL OR service_id = $3) AND ($4::text IS NULL OR office_id = $4)",
            since, until, service, office,
        )  # fmt: skip
        row = await conn.fetchrow(
            "SELECT count(*) AS answered,"
            " count(*) FILTER (WHERE outcome = ANY($5::text[])) AS justified,"
            " count(*) FILTER (WHERE outcome = ANY($5::text[]) AND on_time) AS justified_in_term"
            f" FROM {self.complaints} WHERE status = 'resolved' AND resolved_at >= $1 AND resolved_at < $2"
            " AND ($3::text IS NULL OR service_id = $3) AND ($4::text IS NULL OR office_id = $4)",
            since, until, service, office, list(JUSTIFIED),
        )  # fmt: skip
        assert row is not None
        justified, in_term = int(row["justified"]), int(row["justified_in_term"])
        return {
            "from": start,
            "to": end,
            "service": service,
            "office": office,
            "applicants_served": served,
            "complaints_answered": int(row["answered"]),
            "justified_complaints": justified,
            "justified_complaints_in_term": in_term,
            "justified_complaints_share": _share(justified, served),
            "justified_complaints_resolved_in_term": _share(in_term, justified),
        }


def _share(part: int, whole: int) -> Decimal | None:
    """A percentage with two decimals; None when there is nothing to divide by."""
    if whole == 0:
        return None
    return (Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.01"))


def _row(row: asyncpg.Record) -> dict[str, Any]:
    return dict(row)  # the pool's codecs decode jsonb
