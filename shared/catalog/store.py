"""PostgreSQL store of administrator decisions about the catalog, every change audited.

Parameter values (poverty line, food-basket cost, ...) and edition adoptions are set by an
administrator; each write and its audit record commit in one transaction. Records are
append-only: a correction is a newer record. Readers build a `ParameterBook` or a list of
adoptions from the example files plus the stored records.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from shared.audit import AuditEntry, AuditLog
from shared.catalog.catalog import Catalog
from shared.catalog.editions import AdoptionRecord, select_edition
from shared.catalog.loader import load_example_adoptions, load_parameter_book
from shared.catalog.parameters import ParameterBook, ParameterRecord
from shared.catalog.stored_parameters import stored_adoption_records, stored_parameter_records, with_examples
from shared.db.grants import grant_catalog_readers, migrate_as_owner
from shared.db.identifiers import checked_identifier
from shared.db.roles import ensure_owner

CATALOG_SCHEMA = "catalog"
MIGRATIONS = "shared.catalog.sql"


class CatalogStore:
    def __init__(self, catalog: Catalog, schema: str = CATALOG_SCHEMA) -> None:
        self.catalog = catalog
        self.schema = checked_identifier(schema)
        self.audit = AuditLog(self.schema)

    async def migrate(self, conn: asyncpg.Connection) -> None:
        """Migrate the catalog schema as `qyzmet_owner` and let the catalog readers (the services'
        login roles that read parameter values) read its records; `conn` is an administrator's."""
        await ensure_owner(conn)
        await migrate_as_owner(conn, self.schema, MIGRATIONS)
        await grant_catalog_readers(conn, self.schema)

    async def set_parameter(
        self, conn: asyncpg.Connection, record: ParameterRecord, *, actor: str, role: str
    ) -> ParameterRecord:
        """Validate `record` against its parameter's definition, store it and audit the change."""
        if record.example:
            raise ValueError("an administrator's record cannot be marked as an example")
        if not record.source:
            raise ValueError("a parameter value needs its source (the act that set it)")
        ParameterBook(
            self.catalog.parameters.values(), [record], regions=[r.id for r in self.catalog.regions]
        )  # raises UnknownParameter / InvalidParameterRecord with the reason
        async with conn.transaction():
            recorded_at: datetime = await conn.fetchval(
                f"INSERT INTO {self.schema}.parameter_values"
                " (parameter, region, effective_from, effective_to, value, source, note, recorded_by)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING recorded_at",
                record.parameter,
                record.region,
                record.effective_from,
                record.effective_to,
                record.value,
                record.source,
                record.note,
                actor,
            )
            await self.audit.append(
                conn,
                AuditEntry(
                    actor=actor,
                    role=role,
                    action="catalog.parameter.set",
                    subject=f"parameter:{record.parameter}:{record.region}",
                    details={
                        "value": record.value,
                        "effective_from": record.effective_from.isoformat(),
                        "effective_to": record.effective_to.isoformat() if record.effective_to else None,
                        "source": record.source,
                    },
                ),
            )
        return record.model_copy(update={"recorded_by": actor, "recorded_at": recorded_at})

    async def parameter_records(self, conn: asyncpg.Connection) -> list[ParameterRecord]:
        return await stored_parameter_records(conn, self.schema)

    async def parameter_book(
        self, conn: asyncpg.Connection, *, include_examples: bool = True
    ) -> ParameterBook:
        return load_parameter_book(
            self.catalog, await self.parameter_records(conn), include_examples=include_examples
        )

    async def adopt(self, conn: asyncpg.Connection, record: AdoptionRecord, *, role: str) -> AdoptionRecord:
        """Store an edition adoption (checked against the catalog) and audit it."""
        if record.example:
            raise ValueError("an administrator's adoption cannot be marked as an example")
        service = self.catalog.service(record.service)
        self.catalog.region(record.region)
        if record.edition not in {edition.id for edition in service.editions}:
            raise ValueError(f"service {record.service!r} has no edition {record.edition!r}")
        async with conn.transaction():
            # One adoption decision per (service, region) at a time: check and insert together.
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext($1))", f"adopt:{record.service}:{record.region}"
            )
            existing = await self.adoptions(conn, include_examples=False)
            select_edition(service, record.region, record.effective_from, [*existing, record])  # clashes
            await conn.execute(
                f"INSERT INTO {self.schema}.edition_adoptions"
                " (service, edition, region, effective_from, effective_to, adopted_by, reason)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                record.service,
                record.edition,
                record.region,
                record.effective_from,
                record.effective_to,
                record.adopted_by,
                record.reason,
            )
            await self.audit.append(
                conn,
                AuditEntry(
                    actor=record.adopted_by,
                    role=role,
                    action="catalog.edition.adopted",
                    subject=f"service:{record.service}:{record.region}",
                    details={
                        "edition": record.edition,
                        "effective_from": record.effective_from.isoformat(),
                        "effective_to": record.effective_to.isoformat() if record.effective_to else None,
                        "reason": record.reason,
                    },
                ),
            )
        return record

    async def adoptions(
        self, conn: asyncpg.Connection, *, include_examples: bool = True
    ) -> list[AdoptionRecord]:
        stored = await stored_adoption_records(conn, self.schema)
        if not include_examples:
            return stored
        return with_examples(stored, load_example_adoptions(self.catalog))
