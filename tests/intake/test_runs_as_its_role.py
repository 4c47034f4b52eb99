"""Guard of the intake fixtures: the code under test connects as intake's own login role
(qyzmet_intake, never a superuser) to a schema migrated as the owner, as in production; only
`admin_pool` is the administrator."""

from __future__ import annotations

import asyncpg
from fastapi import FastAPI

from tests.roles import assert_provisioned_as_in_production


async def test_the_intake_fixtures_run_as_qyzmet_intake(
    pool: asyncpg.Pool, app: FastAPI, intake_schema: str
) -> None:
    await assert_provisioned_as_in_production(pool, "intake", intake_schema)
    deps = app.state.intake.deps
    assert deps.pool is pool and deps.service.pool is pool and deps.projector.pool is pool
