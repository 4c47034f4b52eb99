"""Reads without personal data: the complaints about an application, a reviewing office's
queue and the quality-indicator figures, each checked against the policy table."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from services.complaints.adapters.queries import ComplaintQueries
from services.complaints.domain.commands import ReadComplaints, ReadFigures
from services.complaints.domain.policy import POLICY
from services.complaints.service_layer.ports import NATIONAL_ZONE, CatalogSource
from shared.domain.actor import Actor
from shared.domain.errors import Forbidden, InvalidInput

ALL_OFFICES = "*"
"""The queue of every reviewing office (cross-office roles only)."""


class ComplaintViews:
    def __init__(self, pool: asyncpg.Pool, schema: str, catalogs: CatalogSource) -> None:
        self.pool = pool
        self.queries = ComplaintQueries(schema)
        self.catalogs = catalogs

    async def by_application(self, application_id: str, actor: Actor) -> list[dict[str, Any]]:
        POLICY.check_role(ReadComplaints, actor.role)
        async with self.pool.acquire() as conn:
            return await self.queries.by_application(
                conn, application_id, POLICY.offices_visible(actor.role, actor.office)
            )

    async def queue(
        self, reviewing_office: str | None, actor: Actor, include_resolved: bool, limit: int
    ) -> list[dict[str, Any]]:
        POLICY.check_role(ReadComplaints, actor.role)
        visible = POLICY.offices_visible(actor.role, actor.office)
        office: str | None = reviewing_office or actor.office
        if reviewing_office == ALL_OFFICES:
            if visible is not None:
                raise Forbidden(
                    f"role {actor.role!r} may read its own office's queue only, not every office's"
                )
            office = None
        elif visible is not None and office not in visible:
            raise Forbidden(f"office {actor.office!r} may not read the queue of office {office!r}")
        async with self.pool.acquire() as conn:
            return await self.queries.queue(conn, office, include_resolved, limit)

    async def figures(self, query: ReadFigures, actor: Actor) -> dict[str, Any]:
        POLICY.check_role(ReadFigures, actor.role)
        if query.end < query.start:
            raise InvalidInput(
                "the period ends before it starts",
                errors=[{"field": "to", "reason": "must not be before 'from'"}],
            )
        visible = POLICY.offices_visible(actor.role, actor.office)
        office = query.office_id
        if visible is not None:
            if office is None:
                office = actor.office
            elif office not in visible:
                raise Forbidden(f"office {actor.office!r} may not read the figures of office {office!r}")
        catalog = await self.catalogs.current()
        zones = {r.id: str(catalog.time_zone(r.id)) for r in catalog.catalog.regions}
        national = str(NATIONAL_ZONE)
        async with self.pool.acquire() as conn:
            return await self.queries.figures(
                conn, query.start, query.end, query.service_id, office, zones, national
            )


def parse_period(start: date | None, end: date | None) -> tuple[date, date]:
    if start is None or end is None:
        raise InvalidInput(
            "a period is required",
            errors=[{"field": "from" if start is None else "to", "reason": "required"}],
        )
    return start, end
