"""The event-store contract: one abstract suite that every backend must pass.

Subclass `EventStoreContract` and provide a `backend` fixture (an `EventStoreBackend`); the
PostgreSQL adapter and the in-memory store both do (`test_eventstore_contract.py`). A service's
unit tests on the in-memory store are only worth as much as this suite makes it behave like
PostgreSQL.

"Commit order" below means the order `read_committed` returns: for transactions that do not
overlap it is the order they committed in, on every backend. For overlapping ones PostgreSQL
orders by transaction id and the in-memory store by commit; what both guarantee, and what is
tested here, is that a reader resuming from its cursor never skips an event and never sees one
twice, and so reads exactly what a reader starting from the beginning reads.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import Protocol

import pytest

from shared.eventstore import (
    ConcurrencyConflict,
    GlobalCursor,
    NewEvent,
    PartialDuplicate,
    StoredEvent,
    cursor_of,
)
from shared.eventstore.ports import EventSession


class EventStoreBackend(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[EventSession]:
        """A unit of work: commits if the block exits cleanly, rolls back if it raises."""
        ...

    async def read_committed(self, after: GlobalCursor, limit: int = 1000) -> list[StoredEvent]: ...


class Boom(Exception):
    """Raised by a test to make a transaction roll back."""


async def read_all(backend: EventStoreBackend, page: int = 1000) -> list[StoredEvent]:
    """Every committed event visible now, read page by page from the beginning."""
    out: list[StoredEvent] = []
    cursor = GlobalCursor()
    while batch := await backend.read_committed(cursor, page):
        out.extend(batch)
        cursor = cursor_of(batch[-1])
    return out


async def settled(backend: EventStoreBackend, count: int, page: int = 1000) -> list[StoredEvent]:
    """`read_all` once `count` events are visible. On PostgreSQL a committed event is held back
    while any older transaction in the cluster is still open (another test's, say): the gap-safe
    read is complete eventually, not at once. Fails if they do not all show within the bound."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while len(events := await read_all(backend, page)) < count:
        assert loop.time() < deadline, f"only {len(events)} of {count} events became visible"
        await asyncio.sleep(0.01)
    return events


class EventStoreContract:
    """Tests of `EventSession` and the gap-safe global read, independent of the backend."""

    # --- append and load -----------------------------------------------------------------

    async def test_append_and_load_in_stream_order(self, backend: EventStoreBackend) -> None:
        async with backend.transaction() as s:
            first = await s.append("case-1", [NewEvent("a.b", {"n": 1}), NewEvent("a.b", {"n": 2})], 0)
        async with backend.transaction() as s:
            second = await s.append("case-1", [NewEvent("a.c", {"n": 3})], 2)
        async with backend.transaction() as s:
            events = await s.load("case-1")
            tail = await s.load("case-1", after_version=1)
            version = await s.stream_version("case-1")
            other = await s.load("case-other")
        assert (first.appended, first.version, second.appended, second.version) == (2, 2, 1, 3)
        assert [e.version for e in events] == [1, 2, 3]
        assert [(e.event_type, e.data["n"]) for e in events] == [("a.b", 1), ("a.b", 2), ("a.c", 3)]
        assert all(e.stream_id == "case-1" for e in events)
        assert [e.version for e in tail] == [2, 3]
        assert version == 3
        assert other == []

    async def test_stored_event_keeps_what_was_appended(self, backend: EventStoreBackend) -> None:
        event = NewEvent(
            "case.opened", {"office": "ast-1", "items": [1, 2]}, schema_version=2, metadata={"actor": "u1"}
        )
        async with backend.transaction() as s:
            await s.append("case-k", [event], 0)
        async with backend.transaction() as s:
            (stored,) = await s.load("case-k")
        assert (stored.event_id, stored.event_type, stored.schema_version) == (
            event.event_id,
            "case.opened",
            2,
        )
        assert (stored.data, stored.metadata) == (event.data, event.metadata)
        assert stored.recorded_at.tzinfo is not None

    async def test_own_appends_are_visible_inside_the_transaction(self, backend: EventStoreBackend) -> None:
        async with backend.transaction() as s:
            await s.append("case-own", [NewEvent("x", {"n": 1})], 0)
            await s.append("case-own", [NewEvent("x", {"n": 2})], 1)
            assert await s.stream_version("case-own") == 2
            assert [e.data["n"] for e in await s.load("case-own")] == [1, 2]

    async def test_many_appends_number_a_stream_from_one_without_gaps(
        self, backend: EventStoreBackend
    ) -> None:
        for n in range(1, 11):
            async with backend.transaction() as s:
                # one transaction also writes another stream: versions are per stream
                await s.append("noise", [NewEvent("x", {})], None)
                result = await s.append("case-n", [NewEvent("x", {"n": n})], n - 1)
            assert result.version == n
        async with backend.transaction() as s:
            events = await s.load("case-n")
        assert [e.version for e in events] == list(range(1, 11))
        assert [e.data["n"] for e in events] == list(range(1, 11))

    async def test_empty_append_is_a_no_op(self, backend: EventStoreBackend) -> None:
        async with backend.transaction() as s:
            empty_new = await s.append("case-e", [], 0)
            await s.append("case-e", [NewEvent("x", {})], 0)
            empty_later = await s.append("case-e", [], None)
        assert (empty_new.appended, empty_new.version) == (0, 0)
        assert (empty_later.appended, empty_later.version) == (0, 1)
        assert len(await settled(backend, 1)) == 1

    # --- expected version ------------------------------------------------------------------

    async def test_wrong_expected_version_is_a_typed_conflict(self, backend: EventStoreBackend) -> None:
        async with backend.transaction() as s:
            await s.append("case-3", [NewEvent("x", {}), NewEvent("x", {})], 0)
        for expected in (5, 1, 0):
            with pytest.raises(ConcurrencyConflict) as info:
                async with backend.transaction() as s:
                    await s.append("case-3", [NewEvent("x", {})], expected)
            assert (info.value.stream_id, info.value.expected, info.value.actual) == ("case-3", expected, 2)
            assert "case-3" in str(info.value)
        async with backend.transaction() as s:
            assert await s.stream_version("case-3") == 2

    async def test_a_conflict_leaves_the_transaction_usable(self, backend: EventStoreBackend) -> None:
        async with backend.transaction() as s:
            await s.append("case-c", [NewEvent("x", {})], 0)
            with pytest.raises(ConcurrencyConflict):
                await s.append("case-c", [NewEvent("x", {})], 0)
            await s.append("case-d", [NewEvent("x", {})], 0)
        assert [e.stream_id for e in await settled(backend, 2)] == ["case-c", "case-d"]

    async def test_none_appends_at_any_version(self, backend: EventStoreBackend) -> None:
        async with backend.transaction() as s:
            first = await s.append("case-any", [NewEvent("x", {})], None)
        async with backend.transaction() as s:
            second = await s.append("case-any", [NewEvent("x", {}), NewEvent("x", {})], None)
        assert (first.version, second.version, second.appended) == (1, 3, 2)

    async def test_two_concurrent_transactions_on_one_stream_exactly_one_wins(
        self, backend: EventStoreBackend
    ) -> None:
        async with backend.transaction() as s:
            await s.append("case-2", [NewEvent("x", {})], 0)
        both_read = asyncio.Barrier(2)

        async def writer(tag: str) -> str:
            try:
                async with backend.transaction() as s:
                    version = await s.stream_version("case-2")
                    await both_read.wait()  # both decided on version 1
                    await s.append("case-2", [NewEvent("x", {"by": tag})], version)
                    await asyncio.sleep(0)  # let the other writer run while this one is open
            except ConcurrencyConflict as conflict:
                assert (conflict.stream_id, conflict.expected, conflict.actual) == ("case-2", 1, 2)
                return "conflict"
            return "won"

        assert sorted(await asyncio.gather(writer("a"), writer("b"))) == ["conflict", "won"]
        async with backend.transaction() as s:
            events = await s.load("case-2")
        assert [e.version for e in events] == [1, 2]

    async def test_two_concurrent_transactions_appending_any_version_exactly_one_wins(
        self, backend: EventStoreBackend
    ) -> None:
        """`None` skips the caller's check, not the store's: the versions they computed clash."""
        async with backend.transaction() as s:
            await s.append("case-2n", [NewEvent("x", {})], 0)
        both_open = asyncio.Barrier(2)

        async def writer() -> str:
            try:
                async with backend.transaction() as s:
                    await s.stream_version("case-2n")
                    await both_open.wait()
                    await s.append("case-2n", [NewEvent("x", {})], None)
                    await asyncio.sleep(0)
            except ConcurrencyConflict:
                return "conflict"
            return "won"

        results = await asyncio.gather(writer(), writer())
        # Usually the appends overlap and one loses; if the second one's append ran after the first
        # committed, both win, one after the other. Never two events at one version, never a gap.
        assert "won" in results
        async with backend.transaction() as s:
            events = await s.load("case-2n")
        assert [e.version for e in events] == list(range(1, 2 + results.count("won")))

    # --- idempotency -----------------------------------------------------------------------

    async def test_append_is_idempotent_by_event_id(self, backend: EventStoreBackend) -> None:
        event = NewEvent("x", {"v": 1})
        async with backend.transaction() as s:
            first = await s.append("case-4", [event], 0)
        async with backend.transaction() as s:
            again = await s.append("case-4", [event], 0)  # the stale expected version does not matter
            again_any = await s.append("case-4", [event], None)
        assert (first.appended, first.version) == (1, 1)
        assert (again.appended, again.version, again_any.appended) == (0, 1, 0)
        assert len(await settled(backend, 1)) == 1

    async def test_partly_stored_batch_is_refused(self, backend: EventStoreBackend) -> None:
        event = NewEvent("x", {"v": 1})
        async with backend.transaction() as s:
            await s.append("case-4p", [event], 0)
        with pytest.raises(PartialDuplicate) as info:
            async with backend.transaction() as s:
                await s.append("case-4p", [event, NewEvent("x", {"v": 2})], 1)
        assert info.value.stream_id == "case-4p"
        assert [e.data["v"] for e in await settled(backend, 1)] == [1]

    async def test_concurrent_idempotent_appends_store_once(self, backend: EventStoreBackend) -> None:
        event = NewEvent("x", {"v": 1})

        async def write() -> int:
            async with backend.transaction() as s:
                return (await s.append("case-5", [event], None)).appended

        results = await asyncio.gather(*(write() for _ in range(6)))
        assert sum(results) == 1
        assert [e.event_id for e in await settled(backend, 1)] == [event.event_id]

    # --- rollback --------------------------------------------------------------------------

    async def test_rollback_leaves_nothing(self, backend: EventStoreBackend) -> None:
        event = NewEvent("x", {"v": 1})

        async def append_then_fail() -> None:
            async with backend.transaction() as s:
                await s.append("case-r", [event], 0)
                await s.append("case-r2", [NewEvent("x", {})], None)
                raise Boom

        with pytest.raises(Boom):
            await append_then_fail()
        async with backend.transaction() as s:
            assert await s.load("case-r") == []
            assert await s.stream_version("case-r") == 0
        async with backend.transaction() as s:  # the event id was not kept either
            assert (await s.append("case-r", [event], 0)).appended == 1
        # Once the later commit is visible, anything of the rolled-back one would be too.
        assert [e.event_id for e in await settled(backend, 1)] == [event.event_id]

    # --- the gap-safe global read ----------------------------------------------------------

    async def test_global_read_returns_transactions_in_commit_order(self, backend: EventStoreBackend) -> None:
        written: list[uuid.UUID] = []
        for n in range(5):
            batch = [NewEvent("x", {"n": n, "i": i}) for i in range(3)]
            async with backend.transaction() as s:
                await s.append(f"s{n % 2}", batch[:2], None)
                await s.append(f"t{n}", batch[2:], 0)
            written.extend(e.event_id for e in batch)
        everything = await settled(backend, len(written))
        assert [e.event_id for e in everything] == written
        paged = await read_all(backend, page=2)
        assert [e.event_id for e in paged] == written
        keys = [(e.txid, e.position) for e in everything]
        assert keys == sorted(keys) and len(set(keys)) == len(keys)
        assert len({e.txid for e in everything}) == 5  # one transaction id per transaction
        assert await backend.read_committed(cursor_of(everything[-1])) == []
        assert len(await backend.read_committed(GlobalCursor(), limit=4)) == 4

    async def test_a_transaction_that_commits_later_is_not_skipped(self, backend: EventStoreBackend) -> None:
        """The gap a naive `position > last` reader falls into: an older transaction holds the lower
        place but commits after a newer one that the reader has already passed."""
        seen: list[StoredEvent] = []
        cursor = GlobalCursor()

        async def read_on() -> None:
            nonlocal cursor
            while batch := await backend.read_committed(cursor, 10):
                seen.extend(batch)
                cursor = cursor_of(batch[-1])

        async with AsyncExitStack() as stack:
            slow = await stack.enter_async_context(backend.transaction())
            await slow.append("late", [NewEvent("x", {})], 0)
            async with backend.transaction() as fast:
                await fast.append("early", [NewEvent("x", {})], 0)
            await read_on()
            assert "late" not in {e.stream_id for e in seen}  # not committed yet
        async with backend.transaction() as s:
            await s.append("after", [NewEvent("x", {})], 0)
        await settled(backend, 3)
        await read_on()
        assert sorted(e.stream_id for e in seen) == ["after", "early", "late"]
        assert seen == await settled(backend, 3)  # exactly what a reader from the start sees
        assert seen[-1].stream_id == "after"

    async def test_tailing_reader_sees_every_event_exactly_once_under_concurrent_writers(
        self, backend: EventStoreBackend
    ) -> None:
        rng = random.Random(7)
        written: list[uuid.UUID] = []
        done = asyncio.Event()
        seen: list[uuid.UUID] = []

        async def writer(w: int) -> None:
            for t in range(15):
                batch = [NewEvent("x", {"w": w}) for _ in range(rng.randint(1, 3))]
                async with backend.transaction() as s:
                    await s.append(f"w{w}-t{t}", batch, 0)
                    await asyncio.sleep(rng.uniform(0, 0.01))  # commit late, out of order
                written.extend(e.event_id for e in batch)

        async def tail() -> None:
            cursor = GlobalCursor()
            while True:
                finished = done.is_set()
                while batch := await backend.read_committed(cursor, 20):
                    seen.extend(e.event_id for e in batch)
                    cursor = cursor_of(batch[-1])
                if finished:
                    return
                await asyncio.sleep(0.001)

        reader = asyncio.create_task(tail())
        await asyncio.gather(*(writer(w) for w in range(6)))
        await settled(backend, len(written))  # the last drain then sees every commit
        done.set()
        await reader
        assert sorted(seen) == sorted(written)  # every event, none twice
        assert seen == [e.event_id for e in await settled(backend, len(written))]  # one commit order
