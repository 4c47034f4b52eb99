"""The gap-safe read waits only for transactions that could still write this store's events
(issue 14, latency).

It reads below the oldest transaction that may yet commit an event with a lower transaction id.
That used to be the oldest transaction of the whole cluster (`pg_snapshot_xmin`): every service's
outbox relay waited for every other service's transactions, and for other databases' (a test run
beside `make run`). Now a transaction counts only if it runs in this database as a role that may
insert into this schema's events; one that does, or whose backend cannot be told, still holds the
read back.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from shared.eventstore import EventStore, GlobalCursor, NewEvent
from tests.roles import provisioned_schema


async def _read_until(pool: asyncpg.Pool, store: EventStore, streams: set[str], seconds: float) -> set[str]:
    """The streams of `streams` the gap-safe read returns within `seconds` (others' sessions on
    this shared server may hold it back a while)."""
    found: set[str] = set()
    deadline = asyncio.get_running_loop().time() + seconds
    async with pool.acquire() as conn:
        while found != streams and asyncio.get_running_loop().time() < deadline:
            found = {e.stream_id for e in await store.read_committed(conn, GlobalCursor(), 10_000)} & streams
            await asyncio.sleep(0.02)
    return found


@pytest.fixture
async def other_database(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    parts = urlsplit(database_url)
    conn = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    yield conn
    await conn.close()


async def test_another_services_open_transaction_does_not_hold_the_read_back(
    admin_pool: asyncpg.Pool, intake_pool: asyncpg.Pool, decision_pool: asyncpg.Pool
) -> None:
    """Intake's store, written and read as intake's login: the decision service's login may not
    write it, so its open transaction, older than the event, does not keep the event back."""
    async with provisioned_schema(admin_pool, "intake", "th") as schema:
        store = EventStore(schema)
        async with decision_pool.acquire() as other, other.transaction():
            await other.fetchval("SELECT pg_current_xact_id()")  # it holds a transaction id now
            async with intake_pool.acquire() as conn:
                await store.append(conn, "h-1", [NewEvent("x", {})], 0)
            assert await _read_until(intake_pool, store, {"h-1"}, 5.0) == {"h-1"}
            async with intake_pool.acquire() as writer, writer.transaction():  # intake's own: it counts
                await writer.fetchval("SELECT pg_current_xact_id()")
                async with intake_pool.acquire() as conn:
                    await store.append(conn, "h-1b", [NewEvent("x", {})], 0)
                assert await _read_until(intake_pool, store, {"h-1b"}, 0.5) == set()


async def test_another_databases_open_transaction_does_not_hold_the_read_back(
    pool: asyncpg.Pool, other_database: asyncpg.Connection, schema: str
) -> None:
    store = EventStore(schema)
    async with other_database.transaction():
        await other_database.fetchval("SELECT pg_current_xact_id()")
        async with pool.acquire() as conn:
            await store.append(conn, "h-2", [NewEvent("x", {})], 0)
        assert await _read_until(pool, store, {"h-2"}, 5.0) == {"h-2"}


async def test_a_writers_open_transaction_still_holds_newer_events_back_until_it_ends(
    pool: asyncpg.Pool, schema: str
) -> None:
    """A role that may write the events (here the administrator) took its transaction id before
    writing any event: an event committed after it is not read until it ends, then after its own."""
    store = EventStore(schema)
    async with pool.acquire() as writer, pool.acquire() as conn:
        tx = writer.transaction()
        await tx.start()
        await writer.fetchval("SELECT pg_current_xact_id()")  # an id, no event yet
        await store.append(conn, "h-newer", [NewEvent("x", {})], 0)
        assert await _read_until(pool, store, {"h-newer"}, 0.5) == set()
        await store.append(writer, "h-older", [NewEvent("x", {})], 0)
        await tx.commit()
    assert await _read_until(pool, store, {"h-newer", "h-older"}, 30.0) == {"h-newer", "h-older"}
    async with pool.acquire() as conn:
        order = [e.stream_id for e in await store.read_committed(conn, GlobalCursor())]
    assert order == ["h-older", "h-newer"]


@pytest.fixture
async def login(admin_pool: asyncpg.Pool, database_url: str) -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    """A throwaway login with a pool of its own (dropped afterwards)."""
    name = f"qz_hz_{uuid.uuid4().hex[:8]}"
    async with admin_pool.acquire() as conn:
        await conn.execute(f"CREATE ROLE {name} LOGIN PASSWORD 'hz-{name}'")
    parts = urlsplit(database_url)
    url = urlunsplit(parts._replace(netloc=f"{name}:hz-{name}@{parts.netloc.rpartition('@')[2]}"))
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    try:
        yield name, pool
    finally:
        await pool.close()
        async with admin_pool.acquire() as conn:
            await conn.execute(f"DROP OWNED BY {name}; DROP ROLE {name}")


async def test_a_writer_whose_insert_right_was_revoked_after_it_wrote_still_holds_the_read_back(
    admin_pool: asyncpg.Pool, schema: str, login: tuple[str, asyncpg.Pool]
) -> None:
    """Its events are in the table; it holds the table's lock until it ends, whatever the grants."""
    name, pool = login
    store = EventStore(schema)
    async with admin_pool.acquire() as conn:
        await conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {name}")
        await conn.execute(f"GRANT SELECT, INSERT, UPDATE ON {schema}.events, {schema}.streams TO {name}")
        await conn.execute(f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {schema} TO {name}")
    async with pool.acquire() as writer:
        tx = writer.transaction()
        await tx.start()
        await store.append(writer, "r-older", [NewEvent("x", {})], 0)
        async with admin_pool.acquire() as conn:
            await conn.execute(f"REVOKE INSERT ON {schema}.events FROM {name}")
            await store.append(conn, "r-newer", [NewEvent("x", {})], 0)
        assert await _read_until(admin_pool, store, {"r-newer"}, 0.5) == set()
        await tx.commit()
    assert await _read_until(admin_pool, store, {"r-older", "r-newer"}, 30.0) == {"r-older", "r-newer"}


async def test_a_login_that_may_become_a_superuser_holds_the_read_back(
    admin_pool: asyncpg.Pool, schema: str, login: tuple[str, asyncpg.Pool]
) -> None:
    """A member of a superuser role (not inheriting it) may SET ROLE to it and write: it counts."""
    name, pool = login
    store = EventStore(schema)
    boss = f"{name}_su"
    async with admin_pool.acquire() as conn:
        await conn.execute(f"CREATE ROLE {boss} NOLOGIN SUPERUSER")
        await conn.execute(f"GRANT {boss} TO {name}")
    try:
        async with pool.acquire() as other, other.transaction():
            await other.fetchval("SELECT pg_current_xact_id()")
            async with admin_pool.acquire() as conn:
                await store.append(conn, "s-1", [NewEvent("x", {})], 0)
            assert await _read_until(admin_pool, store, {"s-1"}, 0.5) == set()
    finally:
        async with admin_pool.acquire() as conn:
            await conn.execute(f"DROP ROLE {boss}")


async def test_a_reader_does_not_read_its_own_transactions_events(pool: asyncpg.Pool, schema: str) -> None:
    store = EventStore(schema)
    async with pool.acquire() as conn, conn.transaction():
        await store.append(conn, "own", [NewEvent("x", {})], 0)
        assert await store.read_committed(conn, GlobalCursor()) == []


async def test_the_horizon_plans_its_catalog_queries_with_sequential_scans_whatever_its_caller_does(
    pool: asyncpg.Pool, schema: str
) -> None:
    """committed_events plans with sequential scans off (its page must use the index); the horizon
    it calls reads catalogs and activity, which planned so took 260 ms a call (benchmark)."""
    async with pool.acquire() as conn:
        config = await conn.fetchval(
            "SELECT proconfig FROM pg_proc WHERE oid = $1::regprocedure", f"{schema}.event_horizon()"
        )
    assert "enable_seqscan=on" in (config or [])
