"""Case streams on the event-store port: load a case's state, append what it decided."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from services.decision.domain.model import CaseState, replay
from shared.audit import AuditEntry
from shared.contracts.decisions import DECISION_EVENTS
from shared.contracts.event import DomainEvent
from shared.eventstore.ports import EventSession
from shared.service_layer.streams import decode_stored, new_event
from shared.service_layer.unit_of_work import AuditedAppend


def stream_of(application_id: str) -> str:
    return f"case-{application_id}"


class CaseStreams:
    def __init__(self, events: EventSession, audited: AuditedAppend | None = None) -> None:
        """`audited`: the unit's `append_audited` (absent for a read-only use)."""
        self.events = events
        self.audited = audited

    async def load(self, application_id: str) -> CaseState:
        return (await self.load_with_correlation(application_id))[0]

    async def load_with_correlation(self, application_id: str) -> tuple[CaseState, str | None]:
        """The case, and the correlation id it was opened under (the intake submission's)."""
        stored = await self.events.load(stream_of(application_id))
        state = replay(application_id, [decode_stored(DECISION_EVENTS, e) for e in stored])
        return state, stored[0].metadata.get("correlation_id") if stored else None

    async def append(
        self,
        application_id: str,
        events: Sequence[DomainEvent],
        expected_version: int,
        metadata: Mapping[str, Any],
    ) -> None:
        await self.events.append(
            stream_of(application_id), [new_event(e, metadata) for e in events], expected_version
        )

    async def append_audited(
        self,
        application_id: str,
        events: Sequence[DomainEvent],
        expected_version: int,
        metadata: Mapping[str, Any],
        entry: AuditEntry,
    ) -> None:
        """`append` and the command's audit record (in one statement on PostgreSQL)."""
        if self.audited is None:
            raise RuntimeError("these case streams were opened without a unit of work to audit in")
        await self.audited(
            stream_of(application_id), [new_event(e, metadata) for e in events], expected_version, entry
        )
