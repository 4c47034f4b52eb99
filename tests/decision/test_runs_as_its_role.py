"""Guard of the decision fixtures: the code under test connects as the decision service's own
login role (qyzmet_decision, never a superuser) to a schema migrated as the owner, as in
production; only `admin_pool` is the administrator."""

from __future__ import annotations

import asyncpg

from services.decision.service import DecisionService
from tests.roles import assert_provisioned_as_in_production


async def test_the_decision_fixtures_run_as_qyzmet_decision(
    pool: asyncpg.Pool, service: DecisionService, decision_schema: str
) -> None:
    await assert_provisioned_as_in_production(pool, "decision", decision_schema)
    assert service.pool is pool and service.schema == decision_schema
