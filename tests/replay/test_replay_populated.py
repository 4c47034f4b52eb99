"""Replay of a populated system (all four services, hundreds of applications with complaints)
reproduces the live projections exactly: from each service's event store, and from the Kafka
topics from offset 0 (the service's own bookkeeping that no topic carries aside; the decision
service's cases opened from the applications' submissions). The live
schemas are never written; a changed live row is reported by key and column; filters pick the
streams; `qyzmet replay` does the same from the command line."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.complaints.projections import COMPLAINTS
from services.decision.projections import CASES
from services.intake.projections import APPLICATIONS
from shared.cli.main import main
from shared.infra import KafkaHandle
from shared.replay.engine import ReplayRefused, replay_from_kafka, replay_from_store, verify
from shared.replay.spec import ProjectionSpec, Selection
from tests.intake.conftest import DEPT

from .system import System

APPLICATIONS_COUNT = int(os.environ.get("QYZMET_REPLAY_TEST_APPLICATIONS", "200"))


@pytest.fixture
async def system(
    admin_pool: asyncpg.Pool,
    intake_pool: asyncpg.Pool,
    decision_pool: asyncpg.Pool,
    complaints_pool: asyncpg.Pool,
    notification_pool: asyncpg.Pool,
    broker: KafkaHandle,
    topic_prefix: str,
) -> AsyncIterator[System]:
    roles = {
        "intake": intake_pool,
        "decision": decision_pool,
        "complaints": complaints_pool,
        "notification": notification_pool,
    }
    running = System(admin_pool, roles, broker, topic_prefix)
    await running.start()
    try:
        made = await running.populate(APPLICATIONS_COUNT)
        steps = 3 * made["applications"] + 2 * made["complaints"] + 2 * made["upheld"]
        await running.settled(steps)
        running.made = made  # type: ignore[attr-defined]
    finally:
        await running.close()
    try:
        yield running
    finally:
        await running.drop()
        async with admin_pool.acquire() as conn:
            for schema in running.schemas.values():
                for suffix in ("_rs", "_rk", "_rf", "_cli"):
                    await conn.execute(f"DROP SCHEMA IF EXISTS {schema}{suffix} CASCADE")


def _specs(system: System) -> dict[str, ProjectionSpec]:
    schemas = system.schemas
    return {
        "intake": dataclasses.replace(APPLICATIONS, schema=lambda: schemas["intake"]),
        "decision": dataclasses.replace(CASES, schema=lambda: schemas["decision"]),
        "complaints": dataclasses.replace(COMPLAINTS, schema=lambda: schemas["complaints"]),
    }


async def _live_counts(pool: asyncpg.Pool, system: System) -> dict[str, int]:
    async with pool.acquire() as conn:
        return {
            "applications": await conn.fetchval(
                f"SELECT count(*) FROM {system.schemas['intake']}.applications"
            ),
            "history": await conn.fetchval(
                f"SELECT count(*) FROM {system.schemas['intake']}.application_history"
            ),
            "cases": await conn.fetchval(f"SELECT count(*) FROM {system.schemas['decision']}.cases"),
            "complaints": await conn.fetchval(
                f"SELECT count(*) FROM {system.schemas['complaints']}.complaints"
            ),
        }


async def test_replay_reproduces_the_live_projections_from_the_store_and_from_kafka(
    system: System,
    pool: asyncpg.Pool,
    broker: KafkaHandle,
    topic_prefix: str,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    made = system.made  # type: ignore[attr-defined]
    live = await _live_counts(pool, system)
    assert live["applications"] == live["cases"] == APPLICATIONS_COUNT
    assert live["complaints"] == made["complaints"] and live["history"] >= 3 * APPLICATIONS_COUNT
    specs = _specs(system)

    for name, spec in specs.items():
        result = await replay_from_store(pool, spec, f"{system.schemas[name]}_rs")
        tables = await verify(pool, spec, result)
        assert [(t.table, t.differing) for t in tables] == [(t.name, 0) for t in spec.tables], [
            str(d) for t in tables for d in t.shown
        ]
        assert all(t.compared > 0 for t in tables)
    assert await _live_counts(pool, system) == live  # the live schemas are not written

    for name in ("intake", "complaints", "decision"):
        spec = specs[name]
        result = await replay_from_kafka(
            pool, spec, f"{system.schemas[name]}_rk", broker.bootstrap_servers, topic_prefix
        )
        tables = await verify(pool, spec, result, from_kafka=True)
        assert [(t.table, t.differing) for t in tables] == [(t.name, 0) for t in spec.tables], [
            str(d) for t in tables for d in t.shown
        ]
        assert all(t.compared > 0 for t in tables)

    # A changed live row is found, by key and column; a replay never writes into an existing schema.
    intake = system.schemas["intake"]
    async with pool.acquire() as conn:
        changed = await conn.fetchval(
            f"UPDATE {intake}.applications SET executor = 'someone-else'"
            f" WHERE application_id = (SELECT application_id FROM {intake}.applications"
            " ORDER BY application_id LIMIT 1)"
            " RETURNING application_id"
        )
    store_result = dataclasses.replace(
        await replay_from_store(pool, specs["intake"], f"{intake}_rf", Selection(office=DEPT)),
        target=f"{intake}_rs",
    )
    [rows, history] = await verify(pool, specs["intake"], store_result)
    assert (rows.differing, history.differing) == (1, 0)
    assert str(rows.shown[0]) == f"applications [application_id={changed}]: differs in executor"
    with pytest.raises(ReplayRefused, match="exists already"):
        await replay_from_store(pool, specs["intake"], f"{intake}_rs")
    with pytest.raises(ReplayRefused, match="live schema"):
        await replay_from_store(pool, specs["intake"], intake)
    elsewhere = await replay_from_store(
        pool, specs["complaints"], "never_made_2", Selection(office="nowhere-01")
    )
    assert (elsewhere.events, list(elsewhere.streams or [])) == (0, [])
    async with pool.acquire() as conn:
        await conn.execute("DROP SCHEMA never_made_2 CASCADE")

    # The command line: `qyzmet replay intake --verify` into a named fresh schema, filtered.
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("INTAKE_SCHEMA", intake)
    target = f"{intake}_cli"
    code = await asyncio.to_thread(
        main, ["replay", "intake", "--verify", "--into", target, "--service", "unemployed_registration"]
    )
    out = capsys.readouterr().out
    assert code == 1, out  # the changed row
    assert f"events replayed into schema {target}" in out
    assert f"applications: {APPLICATIONS_COUNT} keys compared, 1 differ" in out
    assert f"applications [application_id={changed}]: differs in executor" in out
    assert "application_history: " in out and "keys compared, identical" in out
    assert await asyncio.to_thread(main, ["replay", "intake", "--into", target]) == 2  # exists already
