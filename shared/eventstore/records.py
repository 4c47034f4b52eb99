"""Plain records of the event store: what is appended and what is read back."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from shared.eventstore.event_ids import new_event_id

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class NewEvent:
    """An event to append; `event_id` makes the append idempotent."""

    event_type: str
    data: JsonObject
    schema_version: int = 1
    metadata: JsonObject = field(default_factory=dict)
    event_id: uuid.UUID = field(default_factory=new_event_id)


class StoredEvent(NamedTuple):
    """An event as stored, with its place in the stream and in the global commit order.

    Immutable like the other records; a named tuple because reads build one per row (a frozen
    dataclass costs five times as much to build: a page of the global read is a thousand).
    """

    position: int
    txid: int
    stream_id: str
    version: int
    event_id: uuid.UUID
    event_type: str
    schema_version: int
    data: JsonObject
    metadata: JsonObject
    recorded_at: datetime


class EventPayload(NamedTuple):
    """What a projection folds: an event's place in the log and in its stream, its type and its
    payload; no metadata and no recording time (`EventStore.read_committed_payloads`).

    Half the client's work of a `StoredEvent` per event: its metadata is a second JSON document
    and its time a second object, which most projections never look at.
    """

    position: int
    txid: int
    stream_id: str
    version: int
    event_type: str
    schema_version: int
    data: JsonObject


@dataclass(frozen=True)
class GlobalCursor:
    """Where a gap-safe reader stands: after (txid, position) in commit order."""

    txid: int = 0
    position: int = 0


@dataclass(frozen=True)
class AppendResult:
    stream_id: str
    version: int
    appended: int
    """How many events this call stored (0 when every event id was already stored)."""
