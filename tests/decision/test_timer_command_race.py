"""A timer that fires while an officer signs the same case: both finish, neither answers 500.

The scheduler used to hold its claimed timer rows locked while it appended to the case, and a
command appends first and then cancels the case's timers: the two took the same locks in
opposite order and PostgreSQL killed one of them as a deadlock (the signature answered 500).
The test stops the scheduler right after it has claimed the timer, lets the signature run into
whatever the scheduler holds, then lets the scheduler go on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from services.decision.adapters.timers import TimerStore
from services.decision.domain import commands as c
from services.decision.entrypoints.api import create_app
from services.decision.service import DecisionService
from services.decision.service_layer.case_streams import CaseStreams

from .conftest import FakeClock
from .helpers import submitted
from .test_api import HEAD, SECRET, _to_signature


@pytest.fixture
async def client(service: DecisionService) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(service, token_secret=SECRET)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://decision") as http:
        yield http


async def _blocked_on_a_lock(pool: asyncpg.Pool, schema: str) -> bool:
    async with pool.acquire() as conn:
        waiting: int = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND datname = current_database() AND position($1 in query) > 0",
            schema + ".",
        )
    return waiting > 0


async def _case_outcome(pool: asyncpg.Pool, schema: str, application_id: str) -> tuple[list[str], int]:
    """The case's event types in order, and how many of its deadline timers are still pending."""
    async with pool.acquire() as conn:
        types = [
            r["event_type"]
            for r in await conn.fetch(
                f"SELECT event_type FROM {schema}.events WHERE stream_id = $1 ORDER BY version",
                f"case-{application_id}",
            )
        ]
        pending: int = await conn.fetchval(
            f"SELECT count(*) FROM {schema}.timers WHERE application_id = $1"
            " AND fired_at IS NULL AND cancelled_at IS NULL AND kind LIKE 'deadline%'",
            application_id,
        )
    return types, pending


async def test_a_timer_firing_while_the_head_signs_never_deadlocks(
    client: httpx.AsyncClient,
    service: DecisionService,
    clock: FakeClock,
    pool: asyncpg.Pool,
    decision_schema: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sub = submitted(due_in=timedelta(days=30))
    await service.execute(sub.application_id, c.OpenCase(sub))
    await _to_signature(client, sub.application_id)
    clock.now = sub.received_at + timedelta(days=25)  # "deadline approaching" is due, not "breached"

    claimed, go = asyncio.Event(), asyncio.Event()
    real_claim = TimerStore.claim_due

    async def claim_then_wait(self: TimerStore, *args: Any, **kwargs: Any) -> Any:
        due = await real_claim(self, *args, **kwargs)
        if due and not go.is_set():
            claimed.set()
            await go.wait()
        return due

    monkeypatch.setattr(TimerStore, "claim_due", claim_then_wait)
    firing = asyncio.create_task(service.fire_due_timers())
    await asyncio.wait_for(claimed.wait(), 10)

    signing = asyncio.create_task(client.post(f"/v1/cases/{sub.application_id}/sign", headers=HEAD))
    for _ in range(200):  # until the signature finished or waits on what the scheduler holds
        if signing.done() or await _blocked_on_a_lock(pool, decision_schema):
            break
        await asyncio.sleep(0.02)
    go.set()
    answer, _ = await asyncio.wait_for(asyncio.gather(signing, firing), 30)

    assert answer.status_code == 200, answer.text
    assert "decision.made" in answer.json()["events"]
    types, pending = await _case_outcome(pool, decision_schema, sub.application_id)
    assert types.count("decision.made") == 1
    assert types.count("decision.deadline_approaching") <= 1
    assert pending == 0  # fired or cancelled by the decision, never left behind


@pytest.mark.parametrize("first", ["timer", "head"])
async def test_a_firing_and_a_signature_inside_each_others_transactions_both_finish(
    first: str,
    client: httpx.AsyncClient,
    service: DecisionService,
    clock: FakeClock,
    pool: asyncpg.Pool,
    decision_schema: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The firing's unit and the head's unit overlap: `first` has appended to the case and is
    held there (its transaction open) while the other one runs into it; then `first` goes on.
    Both take locks in one order (the case's events, then its timers), so the second one waits
    and then loses a version race (retried), and nobody answers 500 or waits for ever."""
    sub = submitted(due_in=timedelta(days=30))
    await service.execute(sub.application_id, c.OpenCase(sub))
    await _to_signature(client, sub.application_id)
    clock.now = sub.received_at + timedelta(days=25)

    appended, go = asyncio.Event(), asyncio.Event()

    def then_hold(real: Any) -> Any:
        """`real` (an append; the head's is audited, the timer's not), then held if it is `first`'s."""

        async def append_then_hold(self: CaseStreams, application_id: str, *args: Any) -> None:
            await real(self, application_id, *args)
            metadata = args[2]  # (events, expected version, metadata[, audit record])
            who = "timer" if metadata["actor"] == c.SYSTEM.subject else "head"
            if who == first and not go.is_set():
                appended.set()
                await go.wait()

        return append_then_hold

    monkeypatch.setattr(CaseStreams, "append", then_hold(CaseStreams.append))
    monkeypatch.setattr(CaseStreams, "append_audited", then_hold(CaseStreams.append_audited))

    def fire() -> asyncio.Task[int]:
        return asyncio.create_task(service.fire_due_timers())

    def sign() -> asyncio.Task[httpx.Response]:
        return asyncio.create_task(client.post(f"/v1/cases/{sub.application_id}/sign", headers=HEAD))

    held = fire() if first == "timer" else sign()
    await asyncio.wait_for(appended.wait(), 10)
    other = sign() if first == "timer" else fire()
    for _ in range(200):  # until the other one waits on what the held transaction wrote
        if other.done() or await _blocked_on_a_lock(pool, decision_schema):
            break
        await asyncio.sleep(0.02)
    assert not other.done(), "the other transaction should wait for the held one"
    go.set()
    done = await asyncio.wait_for(asyncio.gather(held, other), 30)
    answer = next(r for r in done if isinstance(r, httpx.Response))
    assert answer.status_code == 200, answer.text

    types, pending = await _case_outcome(pool, decision_schema, sub.application_id)
    assert types.count("decision.made") == 1
    # The timer fired before the decision (timer first) or found the case decided (head first).
    assert types.count("decision.deadline_approaching") == (1 if first == "timer" else 0)
    assert pending == 0
