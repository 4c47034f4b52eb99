"""Statements per accepted submission (issue 14): the per-office counter and the office's audit
chain are hot, so they are taken last, in as few round trips before COMMIT as possible."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.intake.adapters.catalog import CatalogAdapter
from services.intake.adapters.offices import OfficeBook
from services.intake.bootstrap import build
from shared.auth.roles import Role
from shared.contracts.applications import SubmitApplication
from shared.db.pool import create_pool
from shared.domain.actor import Actor
from shared.runtime.database import with_login
from shared.service_layer import Meta
from tests.intake.conftest import DEPT, unemployed_registration
from tests.roles import login_for


@pytest.fixture
async def logged_pool(database_url: str) -> AsyncIterator[tuple[asyncpg.Pool, list[str]]]:
    statements: list[str] = []

    pool = await create_pool(with_login(database_url, login_for("intake")), min_size=1, max_size=1)
    async with pool.acquire() as conn:  # the pool's only connection: every statement is logged
        conn.add_query_logger(lambda record: statements.append(record.query))
    yield pool, statements
    await pool.close()


async def test_an_accepted_submission_takes_six_statements_with_the_hot_rows_last(
    logged_pool: tuple[asyncpg.Pool, list[str]],
    intake_schema: str,
    catalog: CatalogAdapter,
    offices: OfficeBook,
) -> None:
    pool, statements = logged_pool
    service = build(pool, intake_schema, catalog=catalog, offices=offices, pseudonym_key="k" * 32).service
    meta = Meta(Actor(subject="clerk-1", role=Role.CLERK.value, office=DEPT))
    await service.handle(SubmitApplication.model_validate(unemployed_registration()), meta)  # warm-up
    statements.clear()
    result = await service.handle(SubmitApplication.model_validate(unemployed_registration()), meta)
    assert result.accepted and not result.replayed
    upper = [s.strip().split()[0].upper().rstrip(";") for s in statements]
    statements = statements[: upper.index("COMMIT") + 1]  # then only the pool's reset on release
    print(f"{len(statements)} statements per submission:", *statements, sep="\n  ")
    # BEGIN, the idempotency key, the counter, the event, the audit record, COMMIT
    assert len(statements) <= 6, statements
    assert "SAVEPOINT" not in upper and "RELEASE" not in upper
    assert sum("idempotency_keys" in s for s in statements) == 1
    counter = next(i for i, s in enumerate(statements) if "registration_counters" in s)
    assert len(statements) - counter - 1 <= 3, "the counter is held across more than event, audit, COMMIT"
