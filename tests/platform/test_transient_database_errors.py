"""Every PostgreSQL error a restart, fail-over or administrator shutdown produces is transient for
the whole platform (commands, consumers, relay and schedulers share `is_retryable`), and the HTTP
edge answers it with 503 and Retry-After, never a 500."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from shared.http.problems import install_problem_handlers
from shared.service_layer import is_retryable

RESTART_AND_FAILOVER_ERRORS = [
    asyncpg.CannotConnectNowError("the database system is starting up"),
    asyncpg.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.exceptions.CrashShutdownError(
        "terminating connection because of crash of another server process"
    ),
    asyncpg.exceptions.ReadOnlySQLTransactionError("cannot execute INSERT in a read-only transaction"),
    asyncpg.TooManyConnectionsError("sorry, too many clients already"),
    asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.InterfaceError("connection is closed"),
    ConnectionRefusedError(111, "Connection refused"),
    # What asyncpg raises when the server goes away mid-protocol (a fast shutdown), found by the
    # fault suite as a 500 on the decision API.
    asyncpg.exceptions.InternalClientError("unexpected message type"),
]


@pytest.mark.parametrize("error", RESTART_AND_FAILOVER_ERRORS, ids=lambda e: type(e).__name__)
def test_restart_and_failover_errors_are_transient(error: BaseException) -> None:
    assert is_retryable(error)


@pytest.mark.parametrize("error", RESTART_AND_FAILOVER_ERRORS, ids=lambda e: type(e).__name__)
async def test_the_http_edge_answers_them_with_503_and_retry_after(error: BaseException) -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise error

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        answer = await client.get("/boom")
    assert answer.status_code == 503, answer.text
    assert answer.headers.get("retry-after")


def test_a_real_constraint_violation_is_not_transient() -> None:
    assert not is_retryable(asyncpg.UniqueViolationError("duplicate key"))
