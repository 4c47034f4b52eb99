"""Event store of a service: append with optimistic concurrency, gap-safe global reads."""

from shared.eventstore.errors import ConcurrencyConflict, EventStoreError, PartialDuplicate
from shared.eventstore.migrations import apply_migrations
from shared.eventstore.records import AppendResult, EventPayload, GlobalCursor, NewEvent, StoredEvent
from shared.eventstore.store import ANY_VERSION, EventStore, cursor_of

__all__ = [
    "ANY_VERSION",
    "AppendResult",
    "ConcurrencyConflict",
    "EventPayload",
    "EventStore",
    "EventStoreError",
    "GlobalCursor",
    "NewEvent",
    "PartialDuplicate",
    "StoredEvent",
    "apply_migrations",
    "cursor_of",
]
