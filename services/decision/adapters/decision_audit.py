"""Every recorded `DecisionMade` of the decision service's store, re-checked by the domain's
decision audit against the catalog as it is now: the edition in force on each application's date
(the adoptions administrators recorded with `qyzmet adoptions add`, which replace the shipped
example adoptions per service and region as at intake; else the editions' own effective dates),
and the parameter values in force (including those recorded with `qyzmet params set`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import asyncpg

from services.decision.adapters.catalog import DecisionCatalog
from services.decision.domain.decision_audit import EditionInForce, InForce, check_decision
from services.decision.settings import DecisionSettings
from shared.catalog.catalog import Catalog
from shared.catalog.editions import AdoptionRecord
from shared.catalog.errors import CatalogError, NoEditionInForce
from shared.catalog.example_data import load_example_adoptions
from shared.catalog.stored_parameters import stored_adoption_records, stored_parameter_records, with_examples
from shared.contracts.decisions import DECISION_EVENTS, DecisionMade
from shared.contracts.event import ce_type_of
from shared.db.identifiers import checked_identifier
from shared.replay.spec import AuditResult, Finding, Selection


async def current_catalog(conn: asyncpg.Connection, settings: DecisionSettings) -> DecisionCatalog:
    catalog = DecisionCatalog.load(include_examples=settings.use_example_parameters)
    return catalog.with_stored(await stored_parameter_records(conn, settings.catalog_schema))


async def current_adoptions(
    conn: asyncpg.Connection, catalog: Catalog, settings: DecisionSettings
) -> list[AdoptionRecord]:
    """The adoptions intake chooses editions with: the administrators' and, for every service and
    region they decided nothing for, the shipped example adoptions."""
    stored = await stored_adoption_records(conn, settings.catalog_schema)
    return with_examples(stored, load_example_adoptions(catalog))


def in_force_per_catalog(catalog: Catalog, adoptions: Sequence[AdoptionRecord]) -> InForce:
    """The edition the catalog has in force for an application (`Catalog.resolve_edition`, the
    rule intake applies), with its basis; or why there is none."""

    def in_force(service_id: str, region: str, on: date) -> EditionInForce:
        try:
            choice = catalog.resolve_edition(service_id, region, on, adoptions)
        except NoEditionInForce:
            return EditionInForce(
                None, "no adoption record covers that date and no edition's effective dates contain it"
            )
        except CatalogError as exc:
            return EditionInForce(None, str(exc))
        adoption = choice.adoption
        if adoption is not None:
            until = f" to {adoption.effective_to}" if adoption.effective_to else ""
            kind = "EXAMPLE adoption" if adoption.example else "adoption"
            why = f"{kind} by {adoption.adopted_by} from {adoption.effective_from}{until}"
        else:
            edition = choice.edition
            until = f"to {edition.effective_to}" if edition.effective_to else "with no repeal in the seeds"
            why = f"its effective dates: from {edition.effective_from} {until}"
        return EditionInForce(choice.edition, why)

    return in_force


async def audit_decisions(
    pool: asyncpg.Pool,
    schema: str,
    selection: Selection,
    catalog: DecisionCatalog | None = None,
    settings: DecisionSettings | None = None,
    adoptions: Sequence[AdoptionRecord] | None = None,
) -> AuditResult:
    """Re-check every decision made in the selection (office, catalog service, decided in the
    period); stream the events through a server-side cursor. `catalog` and `adoptions` default to
    the ones in force now (shipped, plus what administrators stored in `settings.catalog_schema`)."""
    settings = settings or DecisionSettings()
    table = f"{checked_identifier(schema)}.events"
    findings: list[Finding] = []
    checked = 0
    async with pool.acquire() as conn, conn.transaction():
        if catalog is None:
            catalog = await current_catalog(conn, settings)
        if adoptions is None:
            adoptions = await current_adoptions(conn, catalog.catalog, settings)
        in_force = in_force_per_catalog(catalog.catalog, adoptions)
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
            check = check_decision(made, in_force, catalog.lookup, str(row["event_id"]))
            if check.differs:
                subject = f"application {check.application_id}, DecisionMade {check.event_id}"
                findings.append(Finding(subject, check.decided_at, check.reasons))
    return AuditResult(checked, tuple(findings))
