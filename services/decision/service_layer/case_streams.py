"""Case streams on the event-store port: load a case's state, append what it decided."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from services.decision.domain.model import CaseState, replay
from shared.contracts.decisions import DECISION_EVENTS
from shared.contracts.event import DomainEvent, ce_type_of
from shared.eventstore import NewEvent
from shared.eventstore.ports import EventSession


def stream_of(application_id: str) -> str:
    return f"case-{application_id}"


class CaseStreams:
    def __init__(self, events: EventSession) -> None:
        self.events = events

    async def load(self, application_id: str) -> CaseState:
        stored = await self.events.load(stream_of(application_id))
        decoded = [DECISION_EVENTS.decode(ce_type_of(e.event_type, e.schema_version), e.data) for e in stored]
        return replay(application_id, decoded)

    async def append(
        self,
        application_id: str,
        events: Sequence[DomainEvent],
        expected_version: int,
        metadata: Mapping[str, Any],
    ) -> None:
        await self.events.append(
            stream_of(application_id),
            [
                NewEvent(
                    event_type=e.event_name,
                    data=e.model_dump(mode="json"),
                    schema_version=e.event_version,
                    metadata=dict(metadata),
                    event_id=uuid.uuid4(),
                )
                for e in events
            ],
            expected_version=expected_version,
        )
