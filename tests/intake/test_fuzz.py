"""Schemathesis over the intake OpenAPI schema (bounded in time): no request gets a server error.

The API runs in a real uvicorn server on its own thread and event loop, with its own pool (the
lifespan connects and migrates a fresh schema), so the synchronous schemathesis client can call it.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from services.intake.entrypoints.api import create_app
from shared.db.pool import connect
from shared.settings import PlatformSettings
from tests.intake.conftest import SECRET, auth

MAX_EXAMPLES = 25
TIME_BUDGET_S = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[str]:
    schema = f"tf_{uuid.uuid4().hex[:12]}"
    app = create_app(
        schema=schema,
        settings=PlatformSettings(database_url=database_url),
        run_projector=True,
        token_secret=SECRET,
    )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)

    async def drop() -> None:
        conn = await connect(database_url)
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        finally:
            await conn.close()

    threading.Thread(target=lambda: asyncio.run(drop())).start()


def test_schemathesis_finds_no_server_error(server: str) -> None:
    schema = schemathesis.openapi.from_url(f"{server}/openapi.json")
    headers = auth()
    started = time.monotonic()
    checked = 0
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation, mode in [(op, m) for m in GenerationMode for op in operations]:
        if time.monotonic() - started > TIME_BUDGET_S:
            break

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=timedelta(seconds=5),
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=server, headers=headers, checks=[not_a_server_error])

        try:
            run()
        except Unsatisfiable:
            continue  # no negative input exists for this operation (no parameters, no body)
        checked += 1
    assert checked >= 10
