"""Case streams on the event-store port: load a case's state, append what it decided."""

from __future__ import annotations

from services.decision.domain.model import CaseState, replay
from shared.contracts.decisions import DECISION_EVENTS
from shared.service_layer.streams import DomainStreams, decode_stored


def stream_of(application_id: str) -> str:
    return f"case-{application_id}"


class CaseStreams(DomainStreams):
    def stream_of(self, aggregate_id: str) -> str:
        return stream_of(aggregate_id)

    async def load(self, application_id: str) -> CaseState:
        return (await self.load_with_correlation(application_id))[0]

    async def load_with_correlation(self, application_id: str) -> tuple[CaseState, str | None]:
        """The case, and the correlation id it was opened under (the intake submission's)."""
        stored = await self.events.load(stream_of(application_id))
        state = replay(application_id, [decode_stored(DECISION_EVENTS, e) for e in stored])
        return state, stored[0].metadata.get("correlation_id") if stored else None
