"""Status reads for the entrypoints: one application or a page of them, from the status
projection, within the reader's scope (the same policy table as the commands)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from services.intake.adapters.queries import ApplicationQueries, ListFilter
from services.intake.adapters.summary import SummaryFilter, SummaryQueries
from services.intake.domain.commands import ReadApplications
from services.intake.domain.policy import POLICY
from shared.auth.policy import Target
from shared.domain.actor import Actor
from shared.domain.errors import Forbidden, InvalidInput, NotFound

NO_SUCH_APPLICATION = "no such application (a new one appears within seconds)"
"""Also the answer for another office's or operator's application: it is not revealed to exist."""


@dataclass(frozen=True)
class PageRequest:
    office: str | None = None
    service: str | None = None
    status: str | None = None
    overdue: bool | None = None
    submitted_from: datetime | None = None
    submitted_to: datetime | None = None
    cursor: str | None = None
    limit: int = 50


class ApplicationViews:
    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self.pool = pool
        self.queries = ApplicationQueries(schema)
        self.summaries = SummaryQueries(schema)

    async def one(self, application_id: uuid.UUID, reader: Actor) -> dict[str, Any]:
        POLICY.check_role(ReadApplications, reader.role)
        async with self.pool.acquire() as conn:
            row = await self.queries.get(conn, application_id)
        if row is None:
            raise NotFound(NO_SUCH_APPLICATION)
        target = Target(row["office_id"], submitted_by=row["received_by"])
        POLICY.check_scope(
            ReadApplications, reader.role, reader.office, reader.subject, target,
            hide=True, not_found=NO_SUCH_APPLICATION,
        )  # fmt: skip
        return row

    async def page(self, request: PageRequest, reader: Actor) -> tuple[list[dict[str, Any]], str | None]:
        """Newest first; raises `InvalidCursor` for a cursor this API did not give."""
        POLICY.check_role(ReadApplications, reader.role)
        offices = POLICY.offices_visible(reader.role, reader.office)
        if request.office is not None:
            if offices is not None and request.office not in offices:
                raise Forbidden(f"office {reader.office!r} may not list office {request.office!r}")
            offices = [request.office]
        for name, value in (
            ("submitted_from", request.submitted_from),
            ("submitted_to", request.submitted_to),
        ):
            if value is not None and value.tzinfo is None:
                raise InvalidInput(
                    f"{name} needs a time zone (e.g. 2025-01-01T00:00:00Z)", title="Request is invalid"
                )
        where = ListFilter(
            offices=offices,
            received_by=POLICY.submitter_filter(ReadApplications, reader.role, reader.subject),
            service=request.service,
            status=request.status,
            overdue=request.overdue,
            submitted_from=request.submitted_from,
            submitted_to=request.submitted_to,
        )
        async with self.pool.acquire() as conn:
            return await self.queries.page(conn, where, request.cursor, request.limit)

    async def summary(
        self, reader: Actor, *, office: str | None, approaching: timedelta, recent: int
    ) -> dict[str, Any]:
        """Counts and the latest decisions over the applications the reader may list (no personal
        data): the operations console's overview."""
        POLICY.check_role(ReadApplications, reader.role)
        offices = POLICY.offices_visible(reader.role, reader.office)
        if office is not None:
            if offices is not None and office not in offices:
                raise Forbidden(f"office {reader.office!r} may not read office {office!r}")
            offices = [office]
        where = SummaryFilter(
            offices=offices,
            received_by=POLICY.submitter_filter(ReadApplications, reader.role, reader.subject),
            approaching=approaching,
            recent=recent,
        )
        async with self.pool.acquire() as conn:
            return await self.summaries.summary(conn, where)
