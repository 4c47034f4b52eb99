"""Every recorded `DecisionMade` of the decision service's store, re-checked by the domain's
decision audit against the catalog as it is now (editions, and parameter values including those
administrators recorded with `qyzmet params set`)."""

from __future__ import annotations

import asyncpg

from services.decision.adapters.catalog import DecisionCatalog
from services.decision.domain.decision_audit import check_decision
from services.decision.settings import DecisionSettings
from shared.catalog.models import Edition
from shared.catalog.stored_parameters import stored_parameter_records
from shared.contracts.decisions import DECISION_EVENTS, DecisionMade
from shared.contracts.event import ce_type_of
from shared.db.identifiers import checked_identifier
from shared.replay.spec import AuditResult, Finding, Selection


async def current_catalog(conn: asyncpg.Connection, settings: DecisionSettings) -> DecisionCatalog:
    catalog = DecisionCatalog.load(include_examples=settings.use_example_parameters)
    return catalog.with_stored(await stored_parameter_records(conn, settings.catalog_schema))


async def audit_decisions(
    pool: asyncpg.Pool,
    schema: str,
    selection: Selection,
    catalog: DecisionCatalog | None = None,
    settings: DecisionSettings | None = None,
) -> AuditResult:
    """Re-check every decision made in the selection (office, catalog service, decided in the
    period); stream the events through a server-side cursor."""
    table = f"{checked_identifier(schema)}.events"
    findings: list[Finding] = []
    checked = 0
    async with pool.acquire() as conn, conn.transaction():
        if catalog is None:
            catalog = await current_catalog(conn, settings or DecisionSettings())

        def edition_of(service_id: str, edition_id: str) -> Edition | None:
            try:
                return catalog.edition(service_id, edition_id)
            except LookupError:
                return None

        query = (
            f"SELECT event_id, schema_version, data FROM {table} WHERE event_type = $1"
            " AND ($2::text IS NULL OR data->>'office_id' = $2)"
            " AND ($3::text IS NULL OR data->>'service_id' = $3)"
            " AND ($4::timestamptz IS NULL OR (data->>'decided_at')::timestamptz >= $4)"
            " AND ($5::timestamptz IS NULL OR (data->>'decided_at')::timestamptz < $5)"
            " ORDER BY position"
        )
        args = (selection.office, selection.service, selection.since, selection.until)
        async for row in conn.cursor(query, DecisionMade.event_name, *args, prefetch=500):
            made = DECISION_EVENTS.decode(
                ce_type_of(DecisionMade.event_name, row["schema_version"]), row["data"]
            )
            assert isinstance(made, DecisionMade)
            checked += 1
            check = check_decision(made, edition_of, catalog.lookup, str(row["event_id"]))
            if check.differs:
                subject = f"application {check.application_id}, DecisionMade {check.event_id}"
                findings.append(Finding(subject, check.decided_at, check.reasons))
    return AuditResult(checked, tuple(findings))
