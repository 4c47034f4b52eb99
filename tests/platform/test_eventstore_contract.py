"""The event-store contract (`eventstore_contract.py`) run against every backend: PostgreSQL and
the in-memory store of the service-layer unit tests; plus what only the in-memory store does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from shared.eventstore import ConcurrencyConflict, EventStore, GlobalCursor, NewEvent, StoredEvent
from shared.eventstore.memory import InMemoryEventStore
from shared.eventstore.store import PgEventSession
from tests.platform.eventstore_contract import EventStoreBackend, EventStoreContract, read_all


class PostgresBackend:
    """`EventStore` on a pool: one connection and transaction per unit of work."""

    def __init__(self, pool: asyncpg.Pool, schema: str) -> None:
        self.pool = pool
        self.store = EventStore(schema)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgEventSession]:
        async with self.pool.acquire() as conn, conn.transaction():
            yield self.store.session(conn)

    async def read_committed(self, after: GlobalCursor, limit: int = 1000) -> list[StoredEvent]:
        async with self.pool.acquire() as conn:
            return await self.store.read_committed(conn, after, limit)


def _both_are_backends(pg: PostgresBackend, memory: InMemoryEventStore) -> list[EventStoreBackend]:
    return [pg, memory]  # mypy checks that both implement the port the suite is written against


class TestPostgresEventStore(EventStoreContract):
    @pytest.fixture
    def backend(self, pool: asyncpg.Pool, schema: str) -> PostgresBackend:
        return PostgresBackend(pool, schema)


class TestInMemoryEventStore(EventStoreContract):
    @pytest.fixture
    def backend(self) -> InMemoryEventStore:
        return InMemoryEventStore()


async def test_in_memory_first_committer_wins() -> None:
    """Where PostgreSQL makes the second writer wait for the first, the in-memory store lets both
    append and refuses the second commit, with nothing of it stored."""
    store = InMemoryEventStore()

    async def overlap() -> None:
        async with store.transaction() as first, store.transaction() as second:  # second commits first
            await first.append("s", [NewEvent("x", {"by": "first"})], 0)
            await second.append("s", [NewEvent("x", {"by": "second"})], 0)
            await second.append("other", [NewEvent("x", {})], 0)

    with pytest.raises(ConcurrencyConflict) as info:
        await overlap()
    assert (info.value.stream_id, info.value.expected, info.value.actual) == ("s", 0, 1)
    assert [(e.stream_id, e.data.get("by")) for e in store.events()] == [("s", "second"), ("other", None)]
    assert [e.data["by"] for e in store.events("s")] == ["second"]


async def test_in_memory_same_event_id_committed_elsewhere_refuses_the_commit() -> None:
    store = InMemoryEventStore()
    event = NewEvent("x", {})

    async def overlap() -> None:
        async with store.transaction() as first, store.transaction() as second:
            await first.append("a", [event], None)
            await second.append("b", [event], None)

    with pytest.raises(ConcurrencyConflict):
        await overlap()
    assert [e.stream_id for e in store.events()] == ["b"]


async def test_in_memory_data_comes_back_as_json_would() -> None:
    """A value jsonb would turn into a string comes back as one; the caller's dict is not shared."""
    store = InMemoryEventStore(clock=lambda: datetime(2025, 1, 2, tzinfo=UTC))
    data: dict[str, Any] = {"amount": Decimal("1.50"), "at": datetime(2025, 1, 1, tzinfo=UTC), "tags": ["a"]}
    async with store.transaction() as s:
        await s.append("s", [NewEvent("x", data)], 0)
    data["tags"].append("b")
    (stored,) = await read_all(store)
    assert stored.data == {"amount": "1.50", "at": "2025-01-01T00:00:00+00:00", "tags": ["a"]}
    assert stored.recorded_at == datetime(2025, 1, 2, tzinfo=UTC)
    with pytest.raises(TypeError):
        async with store.transaction() as s:
            await s.append("s", [NewEvent("x", {"bad": object()})], None)
