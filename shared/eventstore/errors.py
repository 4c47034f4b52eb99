"""Typed errors of the event store."""

from __future__ import annotations


class EventStoreError(Exception):
    """Base class of event-store errors."""


class ConcurrencyConflict(EventStoreError):
    """The stream moved on since the caller read it; reload and decide again."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, the append expected version {expected}"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class PartialDuplicate(EventStoreError):
    """Some, but not all, event ids of a batch are stored already: the caller mixed two batches."""

    def __init__(self, stream_id: str, stored: int, total: int) -> None:
        super().__init__(
            f"stream {stream_id!r}: {stored} of {total} event ids of this batch are already stored"
        )
        self.stream_id = stream_id
        self.stored = stored
        self.total = total
