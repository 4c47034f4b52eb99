"""In-memory event store: the fake behind the service-layer unit tests.

It keeps the PostgreSQL adapter's contract (`tests/platform/eventstore_contract.py` runs the same
tests on both), so a handler tested here in milliseconds behaves the same on the real store:
expected versions, typed conflicts, idempotent appends by event id, and a global read in commit
order. What it does not model is locking: where PostgreSQL makes the second of two concurrent
writers wait and then fail, here the second transaction to commit fails (first committer wins).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from shared.db.pool import dumps
from shared.eventstore.errors import ConcurrencyConflict, PartialDuplicate
from shared.eventstore.records import AppendResult, GlobalCursor, JsonObject, NewEvent, StoredEvent


def _as_stored_json(value: JsonObject) -> JsonObject:
    """What jsonb gives back: a fresh copy, with decimals, times and ids as strings. A value
    PostgreSQL would refuse (not JSON-serialisable) fails here too, in the unit test."""
    result: JsonObject = json.loads(dumps(value))
    return result


@dataclass
class _Claim:
    """One stream's writes in an open transaction: the committed version they build on."""

    base: int
    expected: int
    appended: int = 0


class InMemorySession:
    """One transaction's view: the committed events plus its own, not yet committed, appends."""

    def __init__(self, store: InMemoryEventStore) -> None:
        self._store = store
        self._claims: dict[str, _Claim] = {}
        self._pending: list[StoredEvent] = []  # in append order, as PostgreSQL assigns positions
        self._ids: set[uuid.UUID] = set()

    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int | None
    ) -> AppendResult:
        """Same order of checks as PostgreSQL: stored ids first (no-op or `PartialDuplicate`),
        then the expected version (`ConcurrencyConflict`)."""
        current = self._version(stream_id)
        if not events:
            return AppendResult(stream_id, current, 0)
        ids = [e.event_id for e in events]
        stored = sum(1 for i in ids if i in self._ids or i in self._store._ids)
        if stored == len(ids):
            return AppendResult(stream_id, current, 0)
        if stored:
            raise PartialDuplicate(stream_id, stored, len(ids))
        if len(set(ids)) != len(ids):  # PostgreSQL stores the first and refuses the batch
            raise PartialDuplicate(stream_id, len(ids) - len(set(ids)), len(ids))
        if expected_version is not None and expected_version != current:
            raise ConcurrencyConflict(stream_id, expected_version, current)
        claim = self._claims.get(stream_id)
        if claim is None:
            expected = -1 if expected_version is None else expected_version
            claim = self._claims[stream_id] = _Claim(self._store._version(stream_id), expected)
        # Own appends get their global place (txid, position) only at commit: 0 until then.
        now = self._store._clock()
        self._pending.extend(
            _stored(stream_id, current + n, event, now) for n, event in enumerate(events, start=1)
        )
        claim.appended += len(events)
        self._ids.update(ids)
        return AppendResult(stream_id, current + len(events), len(events))

    async def load(self, stream_id: str, after_version: int = 0) -> list[StoredEvent]:
        """The stream in version order, this transaction's own appends included (as in PostgreSQL)."""
        committed = self._store._streams.get(stream_id, [])
        own = [e for e in self._pending if e.stream_id == stream_id] if stream_id in self._claims else []
        return [e for e in committed + own if e.version > after_version]

    async def stream_version(self, stream_id: str) -> int:
        return self._version(stream_id)

    def _version(self, stream_id: str) -> int:
        claim = self._claims.get(stream_id)
        if claim is None:
            return self._store._version(stream_id)
        return claim.base + claim.appended


class InMemoryEventStore:
    """Streams and a global log in commit order; `transaction()` hands out sessions."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        self._log: list[StoredEvent] = []
        self._streams: dict[str, list[StoredEvent]] = {}
        self._ids: set[uuid.UUID] = set()
        self._txid = 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[InMemorySession]:
        """A unit of work: its appends commit when the block exits cleanly, and are discarded if
        it raises. Commit raises `ConcurrencyConflict` if another transaction committed to one of
        its streams (or stored one of its event ids) since it appended."""
        session = InMemorySession(self)
        yield session
        self._commit(session)

    async def read_committed(self, after: GlobalCursor, limit: int = 1000) -> list[StoredEvent]:
        """Committed events after `after`, in commit order: each transaction gets the next txid
        when it commits, so nothing can ever commit "behind" a reader's cursor."""
        key = (after.txid, after.position)
        return [e for e in self._log if (e.txid, e.position) > key][:limit]

    def events(self, stream_id: str | None = None) -> list[StoredEvent]:
        """Every committed event (of one stream, or all of them) in commit order: for assertions."""
        if stream_id is None:
            return list(self._log)
        return list(self._streams.get(stream_id, []))

    def _version(self, stream_id: str) -> int:
        stream = self._streams.get(stream_id)
        return stream[-1].version if stream else 0

    def _commit(self, session: InMemorySession) -> None:
        # Check everything before changing anything: a refused commit leaves no trace.
        for stream_id, claim in session._claims.items():
            actual = self._version(stream_id)
            if actual != claim.base or not session._ids.isdisjoint(self._ids):
                raise ConcurrencyConflict(stream_id, claim.expected, actual)
        if not session._pending:
            return
        self._txid += 1
        for event in session._pending:
            stored = event._replace(txid=self._txid, position=len(self._log) + 1)
            self._log.append(stored)
            self._streams.setdefault(stored.stream_id, []).append(stored)
        self._ids |= session._ids


def _stored(stream_id: str, version: int, event: NewEvent, at: datetime) -> StoredEvent:
    return StoredEvent(
        position=0,
        txid=0,
        stream_id=stream_id,
        version=version,
        event_id=event.event_id,
        event_type=event.event_type,
        schema_version=event.schema_version,
        data=_as_stored_json(event.data),
        metadata=_as_stored_json(event.metadata),
        recorded_at=at,
    )
