"""Guard of the complaints fixtures: the code under test connects as the complaints service's own
login role (qyzmet_complaints, never a superuser) to a schema migrated as the owner, as in
production; only `admin_pool` is the administrator."""

from __future__ import annotations

import asyncpg
from fastapi import FastAPI

from services.complaints.service import ComplaintsService
from tests.roles import assert_provisioned_as_in_production


async def test_the_complaints_fixtures_run_as_qyzmet_complaints(
    pool: asyncpg.Pool, service: ComplaintsService, app: FastAPI, complaints_schema: str
) -> None:
    await assert_provisioned_as_in_production(pool, "complaints", complaints_schema)
    assert service.pool is pool and service.schema == complaints_schema
    assert app.state.complaints.service.pool is pool
