"""While PostgreSQL is out of reach, both APIs answer 503 with Retry-After (as /healthz says),
never a 500: the service layer's retries are spent, then the edge says "try again later"."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
import httpx
import pytest

from services.decision.entrypoints.api import create_app as decision_app
from services.decision.service import DecisionService
from services.decision.settings import DecisionSettings
from services.intake.adapters.catalog import default_catalog
from services.intake.entrypoints.api import create_app as intake_app
from shared.auth.roles import Role
from shared.auth.tokens import issue_token
from shared.db.pool import create_pool
from shared.infra.procs import free_port
from shared.runtime.database import with_login
from shared.service_layer import RetryPolicy
from tests.decision.helpers import AKMOLA_Q4_2012, decision_catalog
from tests.intake.conftest import DEPT, unemployed_registration
from tests.roles import login_for, provision_schema

SECRET = "database-down-secret-0123456789abcdef"
QUICK = RetryPolicy(attempts=3, budget_s=0.5)
"""The retries are spent quickly: the test is about what happens after."""


def _headers(role: Role, office: str) -> dict[str, str]:
    token = issue_token(SECRET, subject=f"{role.value}-1", role=role, office=office)
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Own:
    pool: asyncpg.Pool
    schema: str


@asynccontextmanager
async def _own_pool(database_url: str, admin_pool: asyncpg.Pool, service: str) -> AsyncIterator[Own]:
    """A pool of the test's own as `service`'s login role, on a fresh schema provisioned as the
    owner, so pointing it at a stopped server harms no other test."""
    schema = f"tdown_{uuid.uuid4().hex[:10]}"
    await provision_schema(admin_pool, service, schema, catalog_schema=f"{schema}_cat")
    pool = await create_pool(with_login(database_url, login_for(service)), min_size=1, max_size=4)
    try:
        yield Own(pool, schema)
    finally:
        await pool.close()
        async with admin_pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture
async def own_intake(database_url: str, admin_pool: asyncpg.Pool) -> AsyncIterator[Own]:
    async with _own_pool(database_url, admin_pool, "intake") as own:
        yield own


@pytest.fixture
async def own_decision(database_url: str, admin_pool: asyncpg.Pool) -> AsyncIterator[Own]:
    async with _own_pool(database_url, admin_pool, "decision") as own:
        yield own


async def _stop_database(pool: asyncpg.Pool) -> None:
    pool.set_connect_args(f"postgresql://postgres@127.0.0.1:{free_port()}/gone", timeout=2)
    await pool.expire_connections()


def _assert_unavailable(r: httpx.Response) -> None:
    assert r.status_code == 503, (r.request.url, r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == "https://qyzmet.kz/problems/unavailable"
    assert int(r.headers["retry-after"]) > 0


async def test_intake_answers_503_with_retry_after_while_the_database_is_down(own_intake: Own) -> None:
    own_pool = own_intake.pool
    app = intake_app(own_pool, schema=own_intake.schema, catalog=default_catalog(), token_secret=SECRET)
    await app.state.intake.start()
    app.state.intake.deps.service.bus.retry = QUICK
    headers = _headers(Role.CLERK, DEPT)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            ok = await client.post("/v1/applications", json=unemployed_registration(), headers=headers)
            assert ok.status_code == 201, ok.text
            await _stop_database(own_pool)
            assert (await client.get("/healthz")).status_code == 503
            malformed = unemployed_registration()
            del malformed["applicant"]
            for r in (
                await client.post("/v1/applications", json=unemployed_registration(), headers=headers),
                await client.post("/v1/applications", json=malformed, headers=headers),
                await client.get(f"/v1/applications/{ok.json()['application_id']}", headers=headers),
                await client.get("/v1/applications", headers=headers),
                await client.post(
                    f"/v1/applications/{ok.json()['application_id']}/withdrawal", json={}, headers=headers
                ),
                await client.post(
                    "/v1/applications/lookup-by-iin",
                    json={"iin": unemployed_registration()["applicant"]["iin"]},
                    headers=headers,
                ),
            ):
                _assert_unavailable(r)
    finally:
        await app.state.intake.stop()


async def test_decision_answers_503_with_retry_after_while_the_database_is_down(own_decision: Own) -> None:
    own_pool, schema = own_decision.pool, own_decision.schema
    service = DecisionService(
        own_pool,
        schema,
        decision_catalog(*AKMOLA_Q4_2012),
        DecisionSettings(catalog_schema=f"{schema}_cat"),
    )
    service.bus.retry = QUICK
    app = decision_app(service, token_secret=SECRET)
    head = _headers(Role.HEAD, "akmola-village-1")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://d") as client:
        await _stop_database(own_pool)
        assert (await client.get("/healthz")).status_code == 503
        aid = str(uuid.uuid4())
        for r in (
            await client.get(f"/v1/cases/{aid}", headers=head),
            await client.post(f"/v1/cases/{aid}/assign", json={"executor": "spec-1"}, headers=head),
            await client.post(f"/v1/cases/{aid}/sign", headers=head),
            await client.get("/v1/worklists/overdue", params={"office": "akmola-village-1"}, headers=head),
        ):
            _assert_unavailable(r)
