"""The decision service reads administrators' parameter values through the catalog's read API
and never creates or migrates the catalog's schema (it belongs to the catalog's administration)."""

from __future__ import annotations

import asyncpg

from services.decision.domain import commands as c
from services.decision.service import DecisionService

from .helpers import submitted


async def test_deciding_never_creates_the_catalog_schema(
    service: DecisionService, pool: asyncpg.Pool
) -> None:
    sub = submitted()
    await service.execute(sub.application_id, c.OpenCase(sub))
    await service.catalogs.refresh()
    async with pool.acquire() as conn:
        exists = await conn.fetchval(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1",
            service.settings.catalog_schema,
        )
    assert exists == 0
    assert (await service.get(sub.application_id)).opened is not None
