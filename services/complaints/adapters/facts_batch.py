"""The application facts of a consumer's batch in one statement (issue 14): the submissions and
decisions of different applications are written together (`ApplicationFacts.record_many`); an
application with more than one event in the batch, and the rarer events, go one by one after."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from services.complaints.adapters.read_model import ApplicationFacts
from shared.contracts.applications import ApplicationSubmitted
from shared.contracts.decisions import DecisionMade
from shared.contracts.event import DomainEvent
from shared.messaging.batch_handling import Item
from shared.messaging.envelope import Envelope


class FactsBatch:
    """`shared.messaging.batch_handling.BatchHandler` of the facts consumer."""

    def __init__(self, facts: ApplicationFacts) -> None:
        self.facts = facts

    def key(self, envelope: Envelope, event: DomainEvent) -> str | None:
        application_id = getattr(event, "application_id", None)
        return application_id if isinstance(application_id, str) else None

    def accepts(self, envelope: Envelope, event: DomainEvent) -> bool:
        return isinstance(event, ApplicationSubmitted | DecisionMade)

    async def prepare(self, conn: asyncpg.Connection, items: Sequence[Item]) -> list[Any | None]:
        return [event for _, event in items]  # nothing to read: the events are the plans

    async def write(self, conn: asyncpg.Connection, plans: Sequence[Any]) -> None:
        if plans:
            await self.facts.record_many(conn, plans)
