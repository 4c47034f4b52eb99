"""Denials (401/403) and sign-ins are audit records, through a real ASGI app and PostgreSQL;
an unauthenticated flood costs a bounded number of writes and every denial is counted."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated

import asyncpg
import httpx
from fastapi import Depends
from prometheus_client import CollectorRegistry

from shared.audit import AuditLog
from shared.auth.roles import Role
from shared.auth.tokens import Principal, issue_token
from shared.http.access_audit import audit_access
from shared.http.app import create_app
from shared.http.auth import require_roles
from shared.http.problems import Problem

SECRET = "test-secret-0123456789-0123456789-abcdef"


@dataclass
class Running:
    pool: asyncpg.Pool
    schema: str


def app_for(pool: asyncpg.Pool, schema: str):  # type: ignore[no-untyped-def]
    async def healthy() -> bool:
        return True

    app = create_app("test", metrics=CollectorRegistry(), health=healthy)
    app.state.token_secret = SECRET
    app.state.token_issuer = "qyzmet"
    audit_access(app, lambda: Running(pool, schema))

    @app.get("/v1/cases/{case_id}")
    async def case(
        case_id: str, who: Annotated[Principal, Depends(require_roles(Role.HEAD))]
    ) -> dict[str, str]:
        return {"case": case_id, "by": who.subject}

    @app.post("/v1/cases/{case_id}/steps")
    async def step(
        case_id: str, who: Annotated[Principal, Depends(require_roles(Role.HEAD))]
    ) -> dict[str, str]:
        raise Problem(409, "Command refused", "the case is closed")

    return app


def bearer(role: Role, subject: str = "u1", office: str = "krg-01") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, subject=subject, role=role, office=office)}"}


async def records(pool: asyncpg.Pool, schema: str) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        return await conn.fetch(
            f"SELECT chain, actor, role, office, action, subject, outcome, correlation_id, details"
            f" FROM {schema}.audit_log ORDER BY recorded_at"
        )


async def test_denials_and_sign_ins_are_recorded(pool: asyncpg.Pool, schema: str) -> None:
    transport = httpx.ASGITransport(app=app_for(pool, schema))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/v1/cases/c-1", headers={"X-Correlation-Id": "req-1"})).status_code == 401
        assert (
            await client.get("/v1/cases/c-1", headers=bearer(Role.SPECIALIST, "clerk"))
        ).status_code == 403
        head = bearer(Role.HEAD, "boss")
        assert (await client.get("/v1/cases/c-1", headers=head)).status_code == 200
        assert (await client.get("/v1/cases/c-2", headers=head)).status_code == 200  # signed in already
    rows = [dict(r) for r in await records(pool, schema)]
    assert [(r["action"], r["outcome"], r["actor"], r["chain"]) for r in rows] == [
        ("auth.denied", "denied", "anonymous", "-"),
        ("auth.denied", "denied", "clerk", "krg-01"),
        ("auth.sign_in", "ok", "boss", "krg-01"),
    ]
    assert rows[0]["subject"] == "GET /v1/cases/{case_id}"  # the route, never an identifier from the path
    assert rows[0]["correlation_id"] == "req-1" and rows[0]["details"]["status"] == 401
    assert rows[1]["role"] == "specialist" and rows[1]["details"]["status"] == 403
    async with pool.acquire() as conn:
        assert (await AuditLog(schema).verify(conn)).ok


async def test_an_unauthenticated_flood_is_counted_in_few_writes(pool: asyncpg.Pool, schema: str) -> None:
    transport = httpx.ASGITransport(app=app_for(pool, schema))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answers = await asyncio.gather(*(client.get("/v1/cases/c-1") for _ in range(60)))
        assert {a.status_code for a in answers} == {401}
        assert (await client.get("/v1/cases/c-1")).status_code == 401  # carries what was left over
    rows = await records(pool, schema)
    assert len(rows) < 61  # not one write per request
    assert sum(1 + r["details"].get("coalesced", 0) for r in rows) == 61  # but every denial counted


async def test_a_refused_command_is_recorded_as_failed(pool: asyncpg.Pool, schema: str) -> None:
    transport = httpx.ASGITransport(app=app_for(pool, schema))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        head = bearer(Role.HEAD, "boss")
        answer = await client.post("/v1/cases/c-1/steps", headers={**head, "X-Correlation-Id": "req-9"})
        assert answer.status_code == 409
        assert (await client.get("/v1/cases/c-404x", headers=head)).status_code == 200  # reads: not recorded
    rows = [dict(r) for r in await records(pool, schema)]
    failed = [r for r in rows if r["action"] == "request.failed"]
    assert [(r["outcome"], r["actor"], r["subject"], r["correlation_id"]) for r in failed] == [
        ("failed", "boss", "POST /v1/cases/{case_id}/steps", "req-9")
    ]
    assert failed[0]["details"]["status"] == 409
