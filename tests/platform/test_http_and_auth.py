"""Tokens, roles, problem details, body limit and log redaction, through a real ASGI app."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated

import httpx
import pytest
import structlog
from fastapi import Depends
from prometheus_client import CollectorRegistry
from pydantic import BaseModel

from shared.auth.roles import Role
from shared.auth.tokens import InvalidToken, Principal, issue_token, verify_token
from shared.cli.main import main as cli_main
from shared.eventstore import ConcurrencyConflict
from shared.http.app import create_app
from shared.http.auth import require_office_scope, require_roles
from shared.http.problems import PROBLEM_BASE
from shared.logging import REDACTED, configure_logging

SECRET = "test-secret-0123456789-0123456789-abcdef"


class Body(BaseModel):
    amount: int
    office: str


def _app():  # type: ignore[no-untyped-def]
    async def healthy() -> bool:
        return True

    app = create_app("test", metrics=CollectorRegistry(), health=healthy, max_body_bytes=10_000)
    app.state.token_secret = SECRET
    app.state.token_issuer = "qyzmet"

    @app.post("/things")
    async def post_thing(
        body: Body, principal: Annotated[Principal, Depends(require_roles(Role.HEAD, Role.SPECIALIST))]
    ) -> dict[str, str]:
        require_office_scope(principal, body.office)
        return {"by": principal.subject}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaboom")

    @app.get("/race")
    async def race() -> None:
        raise ConcurrencyConflict("case-1", 3, 4)

    return app


def _token(role: Role, office: str = "krg-01", **kw) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {issue_token(SECRET, subject='u1', role=role, office=office, **kw)}"}


@pytest.fixture
def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_app(), raise_app_exceptions=False), base_url="http://t"
    )


async def test_token_roundtrip_and_rejections() -> None:
    token = issue_token(SECRET, subject="a", role=Role.AUDITOR, office="x")
    principal = verify_token(SECRET, token)
    assert principal.role is Role.AUDITOR
    assert principal.may_see_office("other")  # cross-office role
    with pytest.raises(InvalidToken):
        verify_token("another-secret-0123456789-0123456789-xyz", token)
    with pytest.raises(InvalidToken, match="expired"):
        verify_token(
            SECRET, issue_token(SECRET, subject="a", role=Role.HEAD, office="x", ttl=timedelta(seconds=-1))
        )


async def test_roles_and_office_scope(client: httpx.AsyncClient) -> None:
    body = {"amount": 1, "office": "krg-01"}
    ok = await client.post("/things", json=body, headers=_token(Role.HEAD))
    assert ok.status_code == 200
    none = await client.post("/things", json=body)
    assert none.status_code == 401
    assert none.headers["www-authenticate"] == "Bearer"
    assert none.headers["content-type"] == "application/problem+json"
    wrong_role = await client.post("/things", json=body, headers=_token(Role.CLERK))
    assert wrong_role.status_code == 403
    assert "clerk" in wrong_role.json()["detail"]
    other_office = await client.post("/things", json=body, headers=_token(Role.HEAD, office="krg-02"))
    assert other_office.status_code == 403
    garbage = await client.post("/things", json=body, headers={"Authorization": "Bearer not.a.jwt"})
    assert garbage.status_code == 401


async def test_validation_errors_name_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/things", json={"amount": "lots"}, headers=_token(Role.HEAD))
    assert response.status_code == 422
    problem = response.json()
    fields = {e["field"] for e in problem["errors"]}
    assert fields == {"body.amount", "body.office"}
    malformed = await client.post(
        "/things", content=b"{oops", headers={**_token(Role.HEAD), "content-type": "application/json"}
    )
    assert malformed.status_code == 422


async def test_oversized_body_is_413_and_errors_are_problems(client: httpx.AsyncClient) -> None:
    big = await client.post("/things", content=b"x" * 20_000, headers=_token(Role.HEAD))
    assert big.status_code == 413
    assert big.json()["title"] == "Request body too large"

    async def chunks():  # type: ignore[no-untyped-def]  # no Content-Length: the limit counts bytes
        for _ in range(20):
            yield b"x" * 1_000

    chunked = await client.post("/things", content=chunks(), headers=_token(Role.HEAD))
    assert chunked.status_code == 413
    assert chunked.json()["title"] == "Request body too large"
    assert (await client.get("/race")).status_code == 409  # a lost race: try again, not a 500
    boom = await client.get("/boom")
    assert boom.status_code == 500
    assert "kaboom" not in boom.text
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/metrics")).status_code == 200


def test_logs_never_carry_personal_data(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO")
    log = structlog.get_logger("t")
    log.info("submitted", iin="900101300123", applicant={"full_name": "Асқар"}, note="ИИН 900101300123 given")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert "900101300123" not in line
    assert "Асқар" not in line
    assert record["iin"] == REDACTED
    assert record["applicant"] == REDACTED
    assert record["note"] == f"ИИН {REDACTED} given"


def test_cli_token_is_accepted(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("QYZMET_TOKEN_SECRET", SECRET)
    assert cli_main(["token", "--role", "inspector", "--office", "akm-03"]) == 0
    principal = verify_token(SECRET, capsys.readouterr().out.strip())
    assert (principal.role, principal.office) == (Role.INSPECTOR, "akm-03")


async def test_every_problem_has_a_type_of_the_one_scheme(client: httpx.AsyncClient) -> None:
    answers = {
        "unauthorized": await client.post("/things", json={}),
        "invalid-request": await client.post("/things", json={"amount": "lots"}, headers=_token(Role.HEAD)),
        "payload-too-large": await client.post("/things", content=b"x" * 20_000, headers=_token(Role.HEAD)),
        "not-found": await client.get("/no/such/route"),
        "internal-error": await client.get("/boom"),
    }
    for kind, answer in answers.items():
        assert answer.headers["content-type"].startswith("application/problem+json"), kind
        assert answer.json()["type"] == PROBLEM_BASE + kind, (kind, answer.json())
