"""`qyzmet replay` filters pick whole streams by their first event: the office, the catalog
service, the period the stream began in; `--verify` then compares only those keys. The progress
bar is silent unless stderr is a terminal."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from services.intake.adapters.projection import ApplicationProjector
from services.intake.projections import APPLICATIONS
from shared.replay.engine import replay_from_store, verify
from shared.replay.progress import ProgressBar
from shared.replay.spec import Selection
from tests.intake.conftest import DEPT, TSON, auth, carer_allowance, unemployed_registration, wait_for


@pytest.fixture
async def targets(pool: asyncpg.Pool, intake_schema: str) -> AsyncIterator[list[str]]:
    made: list[str] = []
    yield made
    async with pool.acquire() as conn:
        for name in made:
            await conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


async def test_office_service_and_period_pick_the_streams(
    client: httpx.AsyncClient, pool: asyncpg.Pool, intake_schema: str, targets: list[str]
) -> None:
    started = datetime.now(UTC)
    for _ in range(3):
        assert (
            await client.post("/v1/applications", json=unemployed_registration(), headers=auth())
        ).status_code == 201
    carer = await client.post("/v1/applications", json=carer_allowance(), headers=auth(office=TSON))
    assert carer.status_code == 201, carer.text
    projector = ApplicationProjector(pool, intake_schema)

    async def caught_up() -> bool:
        return await projector.lag() == 0

    await wait_for(caught_up, timeout=10.0)
    spec = dataclasses.replace(APPLICATIONS, schema=lambda: intake_schema)

    async def replayed(name: str, selection: Selection) -> tuple[int, int, list[int]]:
        targets.append(f"{intake_schema}_{name}")
        result = await replay_from_store(pool, spec, targets[-1], selection)
        tables = await verify(pool, spec, result)
        async with pool.acquire() as conn:
            rows = await conn.fetchval(f"SELECT count(*) FROM {result.target}.applications")
        return result.events, rows, [t.differing for t in tables]

    assert await replayed("all", Selection()) == (4, 4, [0, 0])
    assert await replayed("dept", Selection(office=DEPT)) == (3, 3, [0, 0])
    assert await replayed("carer", Selection(service="disabled_child_carer_allowance")) == (1, 1, [0, 0])
    assert await replayed("both", Selection(office=DEPT, service="disabled_child_carer_allowance")) == (
        0,
        0,
        [0, 0],
    )
    assert await replayed("later", Selection(since=datetime.now(UTC) + timedelta(minutes=1))) == (
        0,
        0,
        [0, 0],
    )
    window = Selection(since=started - timedelta(seconds=1), until=datetime.now(UTC) + timedelta(seconds=1))
    assert await replayed("window", window) == (4, 4, [0, 0])


def test_the_progress_bar_draws_only_on_a_terminal() -> None:
    quiet = io.StringIO()
    bar = ProgressBar("intake.applications", 10, stream=quiet)
    bar(5)
    bar(5)
    bar.close()
    assert quiet.getvalue() == "" and bar.done == 10

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    shown = ProgressBar("intake.applications", 10, stream=screen)
    shown(5)
    shown.close()
    assert "intake.applications [###############---------------] 5/10 events" in screen.getvalue()
    assert screen.getvalue().endswith("\n")
