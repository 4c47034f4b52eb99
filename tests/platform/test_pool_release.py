"""Pooled connections go back without a reset query (`shared.db.pool.keep_session`), and the one
place that holds session state, the relay's leadership lock, never leaks it into the pool."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg
import pytest

from shared.db.pool import create_pool
from shared.messaging.relay import _unlock_or_drop

KEY = 0x5157_4B45_0001


@pytest.fixture
async def one_connection(database_url: str):  # type: ignore[no-untyped-def]
    pool = await create_pool(database_url, min_size=1, max_size=1)
    yield pool
    await pool.close()


async def _backend(pool: asyncpg.Pool) -> int:
    async with pool.acquire() as conn:
        pid: int = await conn.fetchval("SELECT pg_backend_pid()")
    return pid


async def test_release_sends_no_reset_query(one_connection: asyncpg.Pool) -> None:
    """asyncpg's default reset (`RESET ALL; UNLISTEN *; ...`) would undo this session setting."""
    async with one_connection.acquire() as conn:
        await conn.execute("SET application_name = 'kept'")
    async with one_connection.acquire() as conn:
        assert await conn.fetchval("SHOW application_name") == "kept"


async def test_a_transaction_left_open_is_still_rolled_back(
    one_connection: asyncpg.Pool, schema: str
) -> None:
    async with one_connection.acquire() as conn:
        await conn.execute(f"CREATE TABLE {schema}.t (n int)")
        await conn.execute("BEGIN")
        await conn.execute(f"INSERT INTO {schema}.t VALUES (1)")
    async with one_connection.acquire() as conn:
        assert await conn.fetchval(f"SELECT count(*) FROM {schema}.t") == 0


async def _lock_free(admin_pool: asyncpg.Pool) -> bool:
    async with admin_pool.acquire() as other:
        taken: bool = await other.fetchval("SELECT pg_try_advisory_lock($1)", KEY)
        if taken:
            await other.execute("SELECT pg_advisory_unlock($1)", KEY)
    return taken


async def test_the_leadership_lock_is_given_up(
    one_connection: asyncpg.Pool, admin_pool: asyncpg.Pool
) -> None:
    before = await _backend(one_connection)
    async with one_connection.acquire() as conn:
        assert await conn.fetchval("SELECT pg_try_advisory_lock($1)", KEY)
        await _unlock_or_drop(conn, KEY)
    assert await _lock_free(admin_pool)
    assert await _backend(one_connection) == before  # the connection stays in service


async def test_a_connection_that_cannot_unlock_is_dropped(
    one_connection: asyncpg.Pool, admin_pool: asyncpg.Pool
) -> None:
    before = await _backend(one_connection)
    async with one_connection.acquire() as conn:
        assert await conn.fetchval("SELECT pg_try_advisory_lock($1)", KEY)
        assert await conn.fetchval("SELECT pg_advisory_unlock($1)", KEY)  # someone let it go meanwhile
        await _unlock_or_drop(conn, KEY)  # not held any more: the session is suspect, dropped
    assert await _lock_free(admin_pool)
    assert await _backend(one_connection) != before


async def test_a_failing_unlock_drops_the_connection(
    one_connection: asyncpg.Pool, admin_pool: asyncpg.Pool
) -> None:
    before = await _backend(one_connection)
    async with one_connection.acquire() as conn:
        assert await conn.fetchval("SELECT pg_try_advisory_lock($1)", KEY)
        await conn.execute("BEGIN")
        with pytest.raises(asyncpg.DivisionByZeroError):
            await conn.execute("SELECT 1/0")  # the transaction is aborted: the unlock will fail
        await _unlock_or_drop(conn, KEY)
    for _ in range(50):
        if await _lock_free(admin_pool):
            break
        await asyncio.sleep(0.1)
    assert await _lock_free(admin_pool)
    assert await _backend(one_connection) != before


async def test_a_connection_a_statement_failed_on_is_reset_in_full(
    one_connection: asyncpg.Pool, admin_pool: asyncpg.Pool
) -> None:
    """An argument asyncpg cannot encode leaves the server mid-statement, in a transaction that
    holds its locks and its snapshot (and so every gap-safe reader of the cluster) until the
    connection's next statement: released, it is reset in full, not kept as it is."""
    too_early = datetime.fromisoformat("0001-01-01T00:00:00+14:00")  # before year 1 in UTC
    async with one_connection.acquire() as conn:
        pid = await conn.fetchval("SELECT pg_backend_pid()")
        await conn.fetch("SELECT relname FROM pg_class WHERE now() >= $1 LIMIT $2", datetime.now(UTC), 1)
    with pytest.raises(asyncpg.DataError):
        async with one_connection.acquire() as conn:
            await conn.fetch("SELECT relname FROM pg_class WHERE now() >= $1 LIMIT $2", too_early, 1)
    async with admin_pool.acquire() as other:
        state = await other.fetchrow(
            "SELECT state, backend_xmin IS NULL AS no_snapshot FROM pg_stat_activity WHERE pid = $1", pid
        )
    assert state is not None and state["state"] == "idle" and state["no_snapshot"]
