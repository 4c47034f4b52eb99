"""The status projection is derived data: rebuilding it from the event store gives identical rows."""

from __future__ import annotations

import asyncpg
import httpx

from services.intake.adapters.projection import PROJECTION, ApplicationProjector, rebuild_projection
from tests.intake.conftest import auth, unemployed_registration, wait_for


async def _snapshot(pool: asyncpg.Pool, schema: str) -> tuple[list[dict], list[dict]]:  # type: ignore[type-arg]
    async with pool.acquire() as conn:
        apps = [
            dict(r) for r in await conn.fetch(f"SELECT * FROM {schema}.applications ORDER BY application_id")
        ]
        history = [
            dict(r)
            for r in await conn.fetch(
                f"SELECT * FROM {schema}.application_history ORDER BY application_id, version"
            )
        ]
    return apps, history


async def test_rebuild_gives_identical_rows(
    client: httpx.AsyncClient, pool: asyncpg.Pool, intake_schema: str
) -> None:
    ids = []
    for i in range(6):
        body = unemployed_registration() if i != 2 else unemployed_registration(documents=[])
        ids.append(
            (await client.post("/v1/applications", json=body, headers=auth())).json()["application_id"]
        )
    await client.post(f"/v1/applications/{ids[0]}/withdrawal", json={"reason": "x"}, headers=auth())
    await client.post(
        f"/v1/applications/{ids[1]}/documents",
        json={"documents": [{"document_id": "oralman_certificate"}]},
        headers=auth(),
    )
    projector = ApplicationProjector(pool, intake_schema)

    async def caught_up() -> bool:
        return await projector.lag() == 0

    await wait_for(caught_up, timeout=3.0)
    before = await _snapshot(pool, intake_schema)
    assert len(before[0]) == 6 and len(before[1]) == 8
    assert await rebuild_projection(pool, intake_schema) == 8
    after = await _snapshot(pool, intake_schema)
    assert after == before
    async with pool.acquire() as conn:
        position = await conn.fetchval(
            f"SELECT position FROM {intake_schema}.projection_checkpoints WHERE projection = $1", PROJECTION
        )
        assert position == await conn.fetchval(f"SELECT max(position) FROM {intake_schema}.events")
    # replaying an event twice changes nothing (idempotent projection)
    async with pool.acquire() as conn:
        await conn.execute(
            f"UPDATE {intake_schema}.projection_checkpoints SET txid = '0'::xid8, position = 0"
            " WHERE projection = $1",
            PROJECTION,
        )
    while await projector.run_once():
        pass
    assert await _snapshot(pool, intake_schema) == before
