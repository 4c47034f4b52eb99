"""One report run: read the log in one read-only snapshot, compute, put the targets beside."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

import asyncpg

from shared.catalog.catalog import Catalog
from shared.catalog.errors import CatalogError
from shared.catalog.stored_parameters import stored_parameter_records
from shared.quality.computation import QualityComputation
from shared.quality.periods import NATIONAL_ZONE, PeriodGrid, Split
from shared.quality.pg_reader import EventSchemas, QualityLogReader
from shared.quality.report import QualityReport, not_computable, report_rows
from shared.quality.targets import TargetBook


@dataclass(frozen=True)
class ReportRequest:
    start: date
    end: date
    split: Split = Split.RANGE
    office: str | None = None
    service: str | None = None
    schemas: EventSchemas = field(default_factory=EventSchemas)
    catalog_schema: str = "catalog"


def zones_of(catalog: Catalog) -> dict[str | None, ZoneInfo]:
    zones: dict[str | None, ZoneInfo] = {}
    for region in catalog.regions:
        try:
            zones[region.id] = catalog.time_zone(region.id)
        except (CatalogError, LookupError):  # pragma: no cover - every region has a zone
            continue
    return zones


async def build_report(conn: asyncpg.Connection, catalog: Catalog, request: ReportRequest) -> QualityReport:
    zones = zones_of(catalog)
    computation = QualityComputation(
        PeriodGrid(request.start, request.end, request.split),
        lambda region: zones.get(region, NATIONAL_ZONE),
        office=request.office,
        service=request.service,
    )
    reader = QualityLogReader(request.schemas)
    async with conn.transaction(readonly=True, isolation="repeatable_read"):
        recorded = await stored_parameter_records(conn, request.catalog_schema)
        async for fact in reader.facts(conn):
            computation.feed(fact)
    targets = TargetBook(catalog, recorded)
    rows = report_rows(computation.figures(), targets)
    services = {row.service for row in rows} if request.service is None else {request.service}
    return QualityReport(
        start=request.start,
        end=request.end,
        office=request.office,
        service=request.service,
        split=request.split.value,
        rows=tuple(rows),
        not_computable=tuple(not_computable(catalog, services)),
        sources=tuple(reader.sources),
    )
