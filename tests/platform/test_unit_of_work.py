"""The PostgreSQL unit of work: a commit that breaks off is reported as of unknown outcome and
never retried blindly; a joined unit needs its caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import pytest

from shared.domain.actor import Actor
from shared.service_layer import MessageBus, Meta, PgUnitOfWork, RetryPolicy
from shared.service_layer.unit_of_work import CommitOutcomeUnknown

META = Meta(Actor("head-1", "head", "office-1"))


@dataclass(frozen=True)
class Sign:
    pass


async def test_a_commit_that_breaks_off_is_of_unknown_outcome_and_not_retried(
    pool: asyncpg.Pool, schema: str
) -> None:
    calls = 0

    async def sign_then_lose_the_connection(cmd: Sign, uow: PgUnitOfWork, meta: Meta) -> None:
        nonlocal calls
        calls += 1
        pid = await uow.conn.fetchval("SELECT pg_backend_pid()")
        async with pool.acquire() as admin:  # the server goes away just before COMMIT
            await admin.execute("SELECT pg_terminate_backend($1)", pid)

    bus: MessageBus[PgUnitOfWork] = MessageBus(
        {Sign: sign_then_lose_the_connection},
        lambda: PgUnitOfWork(pool, schema),
        RetryPolicy(initial_wait_s=0, max_wait_s=0),
    )
    with pytest.raises(CommitOutcomeUnknown):
        await bus.handle(Sign(), META)
    assert calls == 1


async def test_a_joined_unit_refuses_a_connection_without_a_transaction(
    pool: asyncpg.Pool, schema: str
) -> None:
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError, match="open transaction"):
            async with PgUnitOfWork(pool, schema).joined(conn):
                pass
