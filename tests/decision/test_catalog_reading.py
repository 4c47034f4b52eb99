"""The decision service reads administrators' parameter values through the catalog's read API
and never creates or migrates the catalog's schema (it belongs to the catalog's administration)."""

from __future__ import annotations

import asyncio

import asyncpg

from services.decision.domain import commands as c
from services.decision.service import DecisionService
from services.decision.settings import DecisionSettings
from shared.db.pool import create_pool
from shared.runtime.database import with_login
from tests.roles import login_for

from .conftest import FakeClock
from .helpers import AKMOLA_Q4_2012, decision_catalog, submitted


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


async def test_parameter_rereads_never_starve_a_full_pool(
    database_url: str, decision_schema: str, clock: FakeClock
) -> None:
    """Every command re-reads the parameter values (refresh 0 s) while holding its own
    connection: with as many concurrent commands as the pool has connections, none may wait on
    a re-read that waits for a connection."""
    small = await create_pool(with_login(database_url, login_for("decision")), min_size=2, max_size=2)
    try:
        service = DecisionService(
            small,
            decision_schema,
            decision_catalog(*AKMOLA_Q4_2012),
            DecisionSettings(parameter_refresh_s=0, catalog_schema=f"{decision_schema}_cat"),
            clock,
        )
        subs = [submitted() for _ in range(6)]
        await asyncio.wait_for(
            asyncio.gather(*(service.execute(s.application_id, c.OpenCase(s)) for s in subs)), 30
        )
        for sub in subs:
            assert (await service.get(sub.application_id)).opened is not None
    finally:
        await small.close()
