"""Fixtures of the decision integration tests: a migrated schema and a service over it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import asyncpg
import pytest

from services.decision.bootstrap import MIGRATIONS
from services.decision.service import DecisionService
from services.decision.settings import DecisionSettings
from shared.eventstore import apply_migrations

from .helpers import AKMOLA_Q4_2012, decision_catalog


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def decision_schema(pool: asyncpg.Pool, schema: str) -> AsyncIterator[str]:
    async with pool.acquire() as conn:
        await apply_migrations(conn, schema, *MIGRATIONS)
    yield schema
    async with pool.acquire() as conn:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema}_cat CASCADE")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2012, 11, 16, 6, 0, tzinfo=UTC))


@pytest.fixture
def make_service(pool: asyncpg.Pool, decision_schema: str, clock: FakeClock) -> Callable[[], DecisionService]:
    def make() -> DecisionService:
        return DecisionService(
            pool,
            decision_schema,
            decision_catalog(*AKMOLA_Q4_2012),
            DecisionSettings(scheduler_interval_s=0.05, catalog_schema=f"{decision_schema}_cat"),
            clock,
        )

    return make


@pytest.fixture
def service(make_service: Callable[[], DecisionService]) -> DecisionService:
    return make_service()
