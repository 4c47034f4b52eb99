"""A service reads the administrators' parameter values without creating the catalog's schema."""

from __future__ import annotations

import uuid
from datetime import date

import asyncpg

from shared.catalog import ParameterRecord, load_catalog
from shared.catalog.store import CatalogStore
from shared.catalog.stored_parameters import stored_parameter_records


def _poverty_line(value: int) -> ParameterRecord:
    return ParameterRecord(
        parameter="poverty_line",
        region="akmola",
        effective_from=date(2031, 1, 1),
        value=value,
        source="maslikhat decision 7/2 of 2030-12-20",
    )


async def _schema_exists(conn: asyncpg.Connection, schema: str) -> bool:
    return bool(await conn.fetchval("SELECT to_regnamespace($1) IS NOT NULL", schema))


async def test_no_catalog_schema_means_no_records_and_nothing_is_created(pool: asyncpg.Pool) -> None:
    schema = f"cat_{uuid.uuid4().hex[:10]}"
    async with pool.acquire() as conn:
        assert await stored_parameter_records(conn, schema) == []
        assert not await _schema_exists(conn, schema)


async def test_records_set_by_an_administrator_are_read_in_order(pool: asyncpg.Pool) -> None:
    schema = f"cat_{uuid.uuid4().hex[:10]}"
    store = CatalogStore(load_catalog(), schema)
    async with pool.acquire() as conn:
        await store.migrate(conn)
        try:
            assert await stored_parameter_records(conn, schema) == []
            first = await store.set_parameter(conn, _poverty_line(31000), actor="admin@akmola", role="admin")
            second = await store.set_parameter(conn, _poverty_line(32000), actor="admin@akmola", role="admin")
            read = await stored_parameter_records(conn, schema)
            assert read == [first, second] == await store.parameter_records(conn)
        finally:
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
