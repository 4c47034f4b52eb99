"""Indexes built after a bulk load into a fresh schema, not maintained row by row during it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager

import asyncpg
import orjson

from shared.db.identifiers import checked_identifier
from shared.db.pool import dumps, loads

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
    conn: asyncpg.Connection,
    schema: str,
    tables: Collection[str],
    keep: Collection[str] = (),
    pool: asyncpg.Pool | None = None,
) -> AsyncIterator[None]:
    """Drop the indexes of `schema`'s `tables` (primary keys and unique constraints with them)
    but those named in `keep`, and build them again, as they were, once the block
    has loaded the rows: one sort per index instead of an insertion per row and index. If the
    block fails, they are not built again (the fresh schema is not usable: start again). With a
    `pool`, each table's are built on a connection of their own, the tables at the same time (the
    pool needs a free connection per table besides `conn`).

    1,000,000 status history rows: its primary key built after the load in ~0.4 s, the 100,000
    rows' four indexes meanwhile."""
    schema = checked_identifier(schema)
    rebuild: dict[str, list[str]] = {}
    for table in tables:
        qualified = f"{schema}.{checked_identifier(table)}"
        statements = rebuild[table] = []
        for found in await conn.fetch(_INDEXES, qualified, list(keep)):
            if found["constraint_name"] is None:
                await conn.execute(f"DROP INDEX {schema}.{checked_identifier(found['index'])}")
                statements.append(found["definition"])
            else:
                name = checked_identifier(found["constraint_name"])
                await conn.execute(f"ALTER TABLE {qualified} DROP CONSTRAINT {name}")
                statements.append(f"ALTER TABLE {qualified} ADD CONSTRAINT {name} {found['definition']}")
    yield

    async def build(statements: list[str], on: asyncpg.Connection) -> None:
        for statement in statements:
            await on.execute(statement)

    async def build_apart(statements: list[str]) -> None:
        assert pool is not None
        async with pool.acquire() as own:
            await build(statements, own)

    if pool is None:
        for statements in rebuild.values():
            await build(statements, conn)
    else:
        async with asyncio.TaskGroup() as builds:  # one failing stops the others
            for statements in rebuild.values():
                if statements:
                    builds.create_task(build_apart(statements))


def _json_bytes(value: object) -> bytes:
    """`dumps(value)` as UTF-8 bytes, without the round trip through str: orjson's own output
    where it needs no default (the only one `dumps` has is for values orjson refuses)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return dumps(value).encode()


def _json_value(data: bytes) -> object:
    return loads(data)


def _jsonb_bytes(value: object) -> bytes:
    return b"\x01" + _json_bytes(value)  # jsonb's binary format: version 1, then the text


def _jsonb_value(data: bytes) -> object:
    return loads(data[1:])


@asynccontextmanager
async def binary_json(conn: asyncpg.Connection) -> AsyncIterator[None]:
    """`json` and `jsonb` values go to and come from PostgreSQL in its binary format on `conn`
    inside the block (same Python values: `shared.db.pool.dumps`/`loads`), as a binary COPY
    (`copy_records_to_table`) needs them; the pool's text codecs again after it.

    20,000 status rows: COPY ~0.3 s of server time, INSERT ... SELECT FROM
    json_populate_recordset ~1.1 s."""
    codecs = (("json", _json_bytes, _json_value), ("jsonb", _jsonb_bytes, _jsonb_value))
    for name, encoder, decoder in codecs:
        await conn.set_type_codec(
            name, encoder=encoder, decoder=decoder, schema="pg_catalog", format="binary"
        )
    try:
        yield
    finally:
        if not conn.is_closed():
            for name, _, _ in codecs:
                await conn.set_type_codec(name, encoder=dumps, decoder=loads, schema="pg_catalog")
