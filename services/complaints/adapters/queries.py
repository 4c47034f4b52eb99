"""Reads of the complaints projection and the read model: one complaint, the complaints about
an application, a reviewing office's queue, and the quality-indicator figures."""

from __future__ import annotations

from collections.abc import Mapping
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
        self.applications = f"{name}.known_applications"

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
        self, conn: asyncpg.Connection, reviewing_office: str | None, include_resolved: bool, limit: int
    ) -> list[dict[str, Any]]:
        """The complaints routed to an office (None: to any), the nearest due first (open ones only
        by default)."""
        status = "" if include_resolved else " AND status = 'registered'"
        rows = await conn.fetch(
            f"SELECT {COLUMNS} FROM {self.complaints}"
            f" WHERE ($1::text IS NULL OR reviewing_office = $1){status}"
            " ORDER BY review_due_at NULLS LAST, complaint_id LIMIT $2",
            reviewing_office,
            limit,
        )
        return [_row(r) for r in rows]

    async def figures(
        self,
        conn: asyncpg.Connection,
        start: date,
        end: date,
        service: str | None,
        office: str | None,
        zones: Mapping[str, str],
        default_zone: str,
    ) -> dict[str, Any]:
        """Quality-indicator figures over [start, end], whole local days of each region (`zones`:
        region -> IANA time zone; `default_zone` for a record without a region), DOMAIN.md §10:
        - applicants served: distinct applicants (the keyed hash of the ИИН; an application whose
          applicant is not known yet counts as one) with a decision made in the period;
        - justified complaints: complaints answered in the period as upheld or partly upheld;
          within term: those answered no later than their (possibly extended) review term;
        filtered by the contested service and office."""
        regions, names = list(zones), [zones[r] for r in zones]
        served: int = await conn.fetchval(
            f"SELECT count(DISTINCT coalesce(a.applicant_key, d.application_id)) FROM {self.decisions} d"
            f" LEFT JOIN {self.applications} a ON a.application_id = d.application_id"
            " LEFT JOIN unnest($5::text[], $6::text[]) AS z(region, zone)"
            " ON z.region = coalesce(d.region, a.region)"
            " WHERE (d.decided_at AT TIME ZONE coalesce(z.zone, $7))::date BETWEEN $1 AND $2"
            " AND d.decided_at >= $8 AND d.decided_at < $9"
            " AND ($3::text IS NULL OR d.service_id = $3) AND ($4::text IS NULL OR d.office_id = $4)",
            start, end, service, office, regions, names, default_zone, *_widened(start, end),
        )  # fmt: skip
        row = await conn.fetchrow(
            "SELECT count(*) AS answered,"
            " count(*) FILTER (WHERE outcome = ANY($5::text[])) AS justified,"
            " count(*) FILTER (WHERE outcome = ANY($5::text[]) AND on_time) AS justified_in_term"
            f" FROM {self.complaints} c LEFT JOIN unnest($6::text[], $7::text[]) AS z(region, zone)"
            " ON z.region = c.region WHERE status = 'resolved'"
            " AND (resolved_at AT TIME ZONE coalesce(z.zone, $8))::date BETWEEN $1 AND $2"
            " AND resolved_at >= $9 AND resolved_at < $10"
            " AND ($3::text IS NULL OR service_id = $3) AND ($4::text IS NULL OR office_id = $4)",
            start, end, service, office, list(JUSTIFIED), regions, names, default_zone, *_widened(start, end),
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


def _widened(start: date, end: date) -> tuple[datetime, datetime]:
    """UTC bounds a day wider than the period on each side (every local day lies inside them),
    so that the indexes on the instants narrow the rows before the local-day test."""
    return (
        datetime.combine(start - timedelta(days=1), time(), tzinfo=UTC),
        datetime.combine(end + timedelta(days=2), time(), tzinfo=UTC),
    )


def _share(part: int, whole: int) -> Decimal | None:
    """A percentage with two decimals; None when there is nothing to divide by."""
    if whole == 0:
        return None
    return (Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.01"))


def _row(row: asyncpg.Record) -> dict[str, Any]:
    return dict(row)  # the pool's codecs decode jsonb
