"""Timer leases: a leased timer is skipped by other schedulers; a lease whose scheduler died runs
out and the timer is fired by another, once; a failed firing gives its lease back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import asyncpg

from services.decision.domain import commands as c
from services.decision.service import DecisionService

from .conftest import FakeClock
from .helpers import submitted

LEASE_S = 0.3


async def _timer_rows(pool: asyncpg.Pool, schema: str, application_id: str) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        rows: list[asyncpg.Record] = await conn.fetch(
            f"SELECT id, kind, fired_at, fired_by, leased_until, leased_by FROM {schema}.timers"
            " WHERE application_id = $1 ORDER BY id",
            application_id,
        )
    return rows


async def test_a_leased_timer_is_skipped_and_an_expired_lease_is_fired_once_by_another(
    make_service: Callable[[], DecisionService], clock: FakeClock, pool: asyncpg.Pool, decision_schema: str
) -> None:
    a, b = make_service(), make_service()
    for s in (a, b):
        s.settings.timer_lease_s = LEASE_S
    sub = submitted(due_in=timedelta(days=5))
    await a.execute(sub.application_id, c.OpenCase(sub))
    clock.now = sub.received_at + timedelta(days=6)

    # Scheduler A leases both due timers and dies before firing them.
    async with pool.acquire() as conn:
        leased = await a.timers.claim_due(conn, clock(), 10, "scheduler-a", LEASE_S)
    assert {t.kind for t in leased} == {"deadline_approaching", "deadline_breached"}

    assert await b.fire_due_timers(worker="scheduler-b") == 0  # held by A's lease
    assert all(r["fired_at"] is None for r in await _timer_rows(pool, decision_schema, sub.application_id))

    await asyncio.sleep(LEASE_S + 0.1)  # A's lease runs out (waiting for a deadline, not for absence)
    assert await b.fire_due_timers(worker="scheduler-b") == 2
    rows = await _timer_rows(pool, decision_schema, sub.application_id)
    assert {r["fired_by"] for r in rows} == {"scheduler-b"}
    assert all(r["leased_until"] is None for r in rows)  # firing gives the lease back
    assert await b.fire_due_timers(worker="scheduler-b") == 0  # fired once


async def test_a_failed_firing_is_postponed_and_gives_its_lease_back(
    service: DecisionService, clock: FakeClock, pool: asyncpg.Pool, decision_schema: str
) -> None:
    sub = submitted(due_in=timedelta(days=5))
    await service.execute(sub.application_id, c.OpenCase(sub))
    async with pool.acquire() as conn:  # an event this version cannot read: loading the case fails
        await conn.execute(
            f"INSERT INTO {decision_schema}.events (stream_id, version, event_id, event_type, schema_version,"
            " data) VALUES ($1, 99, gen_random_uuid(), 'decision.from_the_future', 1, '{}')",
            f"case-{sub.application_id}",
        )
    clock.now = sub.received_at + timedelta(days=6)
    assert await service.fire_due_timers() == 0
    rows = await _timer_rows(pool, decision_schema, sub.application_id)
    assert rows and all(r["fired_at"] is None and r["leased_until"] is None for r in rows)
