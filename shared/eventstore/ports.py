"""The event-store port as a unit of work sees it: one stream's append and load, inside the
unit's transaction. `EventStore.session(conn)` is the PostgreSQL adapter; the in-memory store
(`shared.eventstore.memory`) is the fake the service-layer unit tests use. Both pass the same
abstract suite (`tests/platform/eventstore_contract.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from shared.eventstore.records import AppendResult, NewEvent, StoredEvent


class EventSession(Protocol):
    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int | None
    ) -> AppendResult:
        """Append if the stream is at `expected_version` (None: any); `ConcurrencyConflict` if a
        concurrent writer got there first; all event ids already stored: a no-op result."""
        ...

    async def load(self, stream_id: str, after_version: int = 0) -> list[StoredEvent]: ...

    async def stream_version(self, stream_id: str) -> int: ...
