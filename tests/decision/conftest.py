"""Fixtures of the decision integration tests: a migrated schema and a service over it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import asyncpg
import pytest

from services.decision.domain import built
from services.decision.service import DecisionService
from services.decision.settings import DecisionSettings
from tests.roles import provision_schema

from .helpers import AKMOLA_Q4_2012, decision_catalog


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(autouse=True)
def built_models_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every model the domain builds without validation (`domain/built.py`) is validated here too
    and must come out the same."""
    monkeypatch.setattr(built, "checking", True)


@pytest.fixture(scope="session")
def pool(decision_pool: asyncpg.Pool) -> asyncpg.Pool:
    """In the decision tests, `pool` is the decision service's own login role (qyzmet_decision),
    as in production; `admin_pool` is the administrator, for what the role may not do
    (tests/roles.py)."""
    return decision_pool


@pytest.fixture
async def decision_schema(admin_pool: asyncpg.Pool) -> AsyncIterator[str]:
    """A fresh decision schema, migrated as the owner and granted to qyzmet_decision; its catalog
    schema `<schema>_cat` (made by a test as the administrator, if at all) dropped with it."""
    name = f"td_{uuid.uuid4().hex[:12]}"
    await provision_schema(admin_pool, "decision", name, catalog_schema=f"{name}_cat")
    yield name
    async with admin_pool.acquire() as conn:
        await conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        await conn.execute(f"DROP SCHEMA IF EXISTS {name}_cat CASCADE")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2012, 11, 16, 6, 0, tzinfo=UTC))


@pytest.fixture
def make_service(
    decision_pool: asyncpg.Pool, decision_schema: str, clock: FakeClock
) -> Callable[[], DecisionService]:
    def make() -> DecisionService:
        return DecisionService(
            decision_pool,
            decision_schema,
            decision_catalog(*AKMOLA_Q4_2012),
            DecisionSettings(scheduler_interval_s=0.05, catalog_schema=f"{decision_schema}_cat"),
            clock,
        )

    return make


@pytest.fixture
def service(make_service: Callable[[], DecisionService]) -> DecisionService:
    return make_service()
