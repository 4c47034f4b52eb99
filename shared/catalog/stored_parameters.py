"""Read the parameter values and edition adoptions administrators recorded, without owning the
catalog's schema.

The catalog schema belongs to the catalog's administration (`qyzmet params set` creates and
migrates it). A service that only reads the values must not create or migrate another owner's
tables, so this reader never does: where the schema does not exist yet, no administrator has
recorded anything, and the answer is an empty list.
"""

from __future__ import annotations

import asyncpg

from shared.catalog.editions import AdoptionRecord
from shared.catalog.parameters import ParameterRecord
from shared.db.identifiers import checked_identifier


async def _rows(conn: asyncpg.Connection, schema: str, name: str) -> list[asyncpg.Record]:
    """A catalog table's rows, oldest first; none where the table does not exist (yet)."""
    table = f"{checked_identifier(schema)}.{name}"
    if await conn.fetchval("SELECT to_regclass($1)", table) is None:
        return []
    rows: list[asyncpg.Record] = await conn.fetch(f"SELECT * FROM {table} ORDER BY id")
    return rows


async def stored_parameter_records(conn: asyncpg.Connection, schema: str) -> list[ParameterRecord]:
    """Every parameter record stored in `schema`, oldest first; [] if the table does not exist."""
    return [
        ParameterRecord(
            parameter=row["parameter"],
            region=row["region"],
            effective_from=row["effective_from"],
            effective_to=row["effective_to"],
            value=row["value"],
            source=row["source"],
            note=row["note"],
            recorded_by=row["recorded_by"],
            recorded_at=row["recorded_at"],
        )
        for row in await _rows(conn, schema, "parameter_values")
    ]


async def stored_adoption_records(conn: asyncpg.Connection, schema: str) -> list[AdoptionRecord]:
    """Every edition adoption stored in `schema`, oldest first; [] if the table does not exist."""
    return [
        AdoptionRecord(
            service=row["service"],
            edition=row["edition"],
            region=row["region"],
            effective_from=row["effective_from"],
            effective_to=row["effective_to"],
            adopted_by=row["adopted_by"],
            reason=row["reason"],
        )
        for row in await _rows(conn, schema, "edition_adoptions")
    ]


def with_examples(stored: list[AdoptionRecord], examples: tuple[AdoptionRecord, ...]) -> list[AdoptionRecord]:
    """An administrator's adoption replaces the example for that service and region."""
    decided = {(a.service, a.region) for a in stored}
    return [*(a for a in examples if (a.service, a.region) not in decided), *stored]
