"""SLA timers persist with the events, fire after a restart, and fire exactly once even with two
schedulers running at the same time."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg

from services.decision.bootstrap import run_scheduler
from services.decision.domain import commands as c
from services.decision.domain.timers import (
    DEADLINE_KINDS,
    ENTITLEMENT_KINDS,
    CancelTimers,
    ScheduleTimer,
    _Deadline,
    _net,
    approaching_at,
)
from services.decision.service import DecisionService

from .conftest import FakeClock
from .helpers import TSA, TSA_AKMOLA, env, submitted


async def _event_types(pool: asyncpg.Pool, schema: str) -> Counter[tuple[str, str]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(f"SELECT stream_id, event_type FROM {schema}.events")
    return Counter((r["stream_id"], r["event_type"]) for r in rows)


async def test_timer_due_while_stopped_fires_after_restart_exactly_once(
    make_service: Callable[[], DecisionService], clock: FakeClock, pool: asyncpg.Pool, decision_schema: str
) -> None:
    first = make_service()
    sub = submitted(due_in=timedelta(days=10))
    await first.execute(sub.application_id, c.OpenCase(sub))
    async with pool.acquire() as conn:
        pending = await first.timers.pending(conn, sub.application_id)
    assert {r["kind"] for r in pending} == {"deadline_approaching", "deadline_breached"}
    del first  # "the worker stops"; time passes beyond the deadline

    clock.now = sub.received_at + timedelta(days=11)
    restarted = make_service()  # a new process: only the database remembers the timers
    stop = asyncio.Event()
    task = asyncio.create_task(run_scheduler(restarted, stop))
    stream = f"case-{sub.application_id}"
    for _ in range(100):
        counts = await _event_types(pool, decision_schema)
        if counts[(stream, "decision.deadline_breached")]:
            break
        await asyncio.sleep(0.05)
    # A sentinel case, due after this one's timers: once the scheduler has fired it, it has run a
    # round after the first firing, and a timer it would fire twice (claimed in due order) too.
    sentinel = submitted(received_at=sub.received_at + timedelta(hours=1), due_in=timedelta(days=10))
    await restarted.execute(sentinel.application_id, c.OpenCase(sentinel))
    for _ in range(100):
        counts = await _event_types(pool, decision_schema)
        if counts[(f"case-{sentinel.application_id}", "decision.deadline_breached")]:
            break
        await asyncio.sleep(0.05)
    assert counts[(f"case-{sentinel.application_id}", "decision.deadline_breached")] == 1
    stop.set()
    await task
    counts = await _event_types(pool, decision_schema)
    assert counts[(stream, "decision.deadline_breached")] == 1
    assert counts[(stream, "decision.deadline_approaching")] == 1
    async with pool.acquire() as conn:
        assert await restarted.timers.pending(conn, sub.application_id) == []
        breached = await conn.fetchval(
            f"SELECT breached FROM {decision_schema}.cases WHERE application_id = $1", sub.application_id
        )
    assert breached is True
    state = await restarted.get(sub.application_id)
    assert state.breached


async def test_two_schedulers_never_fire_one_timer_twice(
    make_service: Callable[[], DecisionService], clock: FakeClock, pool: asyncpg.Pool, decision_schema: str
) -> None:
    opener = make_service()
    received = datetime(2012, 11, 15, 5, tzinfo=UTC)
    ids = []
    for _ in range(40):
        sub = submitted(received_at=received, due_in=timedelta(days=5))
        ids.append(sub.application_id)
        await opener.execute(sub.application_id, c.OpenCase(sub))
    clock.now = received + timedelta(days=6)

    a, b = make_service(), make_service()
    a.scheduler.batch = b.scheduler.batch = 3  # many small, interleaved batches
    # Count every firing attempt: the case itself would swallow a second firing, so the events
    # alone could not show one.
    attempts: Counter[int] = Counter()
    for scheduler in (a, b):
        real = scheduler.scheduler.fire

        async def spy(timer, worker, real=real):  # type: ignore[no-untyped-def]
            attempts[timer.id] += 1
            return await real(timer, worker)

        scheduler.scheduler.fire = spy  # type: ignore[method-assign]
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(run_scheduler(a, stop, worker="scheduler-a")),
        asyncio.create_task(run_scheduler(b, stop, worker="scheduler-b")),
    ]
    for _ in range(200):
        async with pool.acquire() as conn:
            left = await conn.fetchval(
                f"SELECT count(*) FROM {decision_schema}.timers WHERE fired_at IS NULL"
            )
        if left == 0:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*tasks)

    counts = await _event_types(pool, decision_schema)
    for aid in ids:
        assert counts[(f"case-{aid}", "decision.deadline_breached")] == 1
        assert counts[(f"case-{aid}", "decision.deadline_approaching")] == 1
    async with pool.acquire() as conn:
        by = await conn.fetch(
            f"SELECT fired_by, count(*) AS n FROM {decision_schema}.timers GROUP BY fired_by"
        )
    assert sum(r["n"] for r in by) == 80
    assert {r["fired_by"] for r in by} == {"scheduler-a", "scheduler-b"}  # both really worked
    assert len(attempts) == 80
    assert set(attempts.values()) == {1}, "a timer was fired more than once"


async def test_automated_decision_leaves_no_deadline_timers(
    service: DecisionService, clock: FakeClock, pool: asyncpg.Pool, decision_schema: str
) -> None:
    sub = submitted(
        service_id="pension_savings_account_info",
        edition_id="kz_std_393_new_2012",
        channel="tson",
        due_in=timedelta(minutes=10),
    )
    result = await service.execute(sub.application_id, c.OpenCase(sub))
    assert "decision.made" in [e.event_name for e in result.events]
    clock.now = sub.received_at + timedelta(hours=1)
    assert await service.fire_due_timers() == 0
    async with pool.acquire() as conn:
        stored = await conn.fetchval(f"SELECT count(*) FROM {decision_schema}.timers")
    assert stored == 0  # set and cancelled by the same batch of events: never written


async def test_a_timer_that_fails_is_postponed_and_never_blocks_the_others(
    make_service: Callable[[], DecisionService], clock: FakeClock, pool: asyncpg.Pool, decision_schema: str
) -> None:
    service = make_service()
    broken, healthy = submitted(due_in=timedelta(days=5)), submitted(due_in=timedelta(days=6))
    for sub in (broken, healthy):
        await service.execute(sub.application_id, c.OpenCase(sub))
    async with pool.acquire() as conn:  # an event this version cannot read: loading the case fails
        await conn.execute(
            f"INSERT INTO {decision_schema}.events (stream_id, version, event_id, event_type, schema_version,"
            " data) VALUES ($1, 99, gen_random_uuid(), 'decision.from_the_future', 1, '{}')",
            f"case-{broken.application_id}",
        )
    clock.now = broken.received_at + timedelta(days=30)
    fired = await service.fire_due_timers()
    assert fired == 2  # the healthy case's two timers
    counts = await _event_types(pool, decision_schema)
    assert counts[(f"case-{healthy.application_id}", "decision.deadline_breached")] == 1
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT attempts, last_error, due_at FROM {decision_schema}.timers WHERE application_id = $1",
            broken.application_id,
        )
    assert rows and all(r["attempts"] == 1 and r["last_error"] == "UnknownEventType" for r in rows)
    assert all(r["due_at"] > broken.received_at + timedelta(days=5) for r in rows)  # postponed


def test_deadline_timers_are_worked_out_only_when_they_survive_the_batch() -> None:
    """`_net` keeps a term's deadline timers unworked (issue 14): dropped whole by a cancel of
    both, kept by an unrelated cancel, and worked out when a cancel leaves one of the two."""
    e = env(TSA, TSA_AKMOLA)
    start, due = datetime(2024, 1, 1, 4, tzinfo=UTC), datetime(2024, 1, 31, 4, tzinfo=UTC)
    term = _Deadline(start, due)
    approaching = ScheduleTimer("deadline_approaching", approaching_at(start, due, e.approaching_share), due)
    breached = ScheduleTimer("deadline_breached", due, due)
    assert term.timers(e) == [approaching, breached]
    assert _net([term, CancelTimers(DEADLINE_KINDS)], e, stored_before=False) == []
    assert _net([term, CancelTimers(ENTITLEMENT_KINDS)], e, stored_before=False) == [term]
    assert _net([term, CancelTimers(frozenset({"deadline_breached"}))], e, stored_before=False) == [
        approaching
    ]
    cancel = CancelTimers(DEADLINE_KINDS)
    assert _net([term, cancel, term], e, stored_before=True) == [cancel, term]
