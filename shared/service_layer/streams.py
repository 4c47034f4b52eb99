"""Domain events to and from the event store: one encoding for every service's streams."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from shared.audit import AuditEntry
from shared.contracts.event import DomainEvent, ce_type_of
from shared.contracts.registry import EventRegistry
from shared.eventstore import NewEvent, StoredEvent
from shared.eventstore.ports import EventSession
from shared.service_layer.unit_of_work import AuditedAppend


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


class DomainStreams:
    """A service's streams on the event-store port: appends of domain events, alone or with the
    command's audit record in the same statement (the unit of work's `append_audited`).
    Subclasses name their streams (`stream_of`) and load them as their domain folds them."""

    def __init__(self, events: EventSession, audited: AuditedAppend | None = None) -> None:
        """`audited`: the unit's `append_audited` (absent for a read-only use)."""
        self.events = events
        self.audited = audited

    def stream_of(self, aggregate_id: str) -> str:
        raise NotImplementedError

    async def append(
        self,
        aggregate_id: str,
        events: Sequence[DomainEvent],
        expected_version: int,
        metadata: Mapping[str, Any],
    ) -> None:
        await self.events.append(
            self.stream_of(aggregate_id), [new_event(e, metadata) for e in events], expected_version
        )

    async def append_audited(
        self,
        aggregate_id: str,
        events: Sequence[DomainEvent],
        expected_version: int,
        metadata: Mapping[str, Any],
        entry: AuditEntry,
    ) -> None:
        """`append` and the command's audit record (in one statement on PostgreSQL)."""
        if self.audited is None:
            raise RuntimeError("these streams were opened without a unit of work to audit in")
        await self.audited(
            self.stream_of(aggregate_id), [new_event(e, metadata) for e in events], expected_version, entry
        )
