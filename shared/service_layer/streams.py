"""Domain events to and from the event store: one encoding for every service's streams."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.contracts.event import DomainEvent, ce_type_of
from shared.contracts.registry import EventRegistry
from shared.eventstore import NewEvent, StoredEvent


def new_event(event: DomainEvent, metadata: Mapping[str, Any]) -> NewEvent:
    """The event to append: its name, version and JSON data; metadata without empty entries."""
    return NewEvent(
        event_type=event.event_name,
        schema_version=event.event_version,
        data=event.model_dump(mode="json"),
        metadata={k: v for k, v in metadata.items() if v is not None},
    )


def decode_stored(registry: EventRegistry, event: StoredEvent) -> DomainEvent:
    """A stored event as its current model (old versions upcast by the registry)."""
    return registry.decode(ce_type_of(event.event_type, event.schema_version), event.data)
