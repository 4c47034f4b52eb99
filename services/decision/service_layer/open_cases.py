"""New cases opened together: the decision consumer's batch of `ApplicationSubmitted` events in a
few statements (issue 14) instead of ~6 per case.

`prepare` reads the heads of all the batch's case streams in one statement and plans each new
case with the same `CaseHandlers.plan` as a single command (an automated service is decided
there and then); a case whose stream exists already, or whose planning fails, is left to the
single-record path. `write` appends every case's events in one statement that answers each
stream's version after it, checks that each stream holds exactly its own events (a concurrent
writer makes the batch roll back and its records go one by one), then timers, the `cases` rows
(one pipelined statement) and audit records.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
import structlog

from services.decision.adapters.projection import CaseProjection
from services.decision.adapters.timers import TimerStore
from services.decision.domain import commands as c
from services.decision.domain.model import replay
from services.decision.service_layer.case_streams import stream_of
from services.decision.service_layer.catalogs import CatalogSource
from services.decision.service_layer.handlers import CaseHandlers, CasePlan, OnCase, actor_of_command
from shared.audit import AuditLog
from shared.contracts.applications import ApplicationSubmitted
from shared.contracts.event import DomainEvent
from shared.eventstore import EventStore
from shared.eventstore.errors import ConcurrencyConflict
from shared.messaging.batch_handling import Item
from shared.messaging.consumer import after_commit
from shared.messaging.envelope import Envelope
from shared.service_layer import Meta
from shared.service_layer.streams import new_event
from shared.service_layer.unit_of_work import AfterCommit

log = structlog.get_logger(__name__)


class OpenCasesTogether:
    """The decision consumer's `BatchHandler` (shared.messaging.batch_handling)."""

    def __init__(self, schema: str, handlers: CaseHandlers, catalogs: CatalogSource) -> None:
        self.schema = schema
        self.handlers = handlers
        self.catalogs = catalogs
        self.store = EventStore(schema)
        self.timers = TimerStore(schema)
        self.projection = CaseProjection(schema)
        self.audit = AuditLog(schema)

    def key(self, envelope: Envelope, event: DomainEvent) -> str | None:
        application_id = getattr(event, "application_id", None)
        return application_id if isinstance(application_id, str) else None

    def accepts(self, envelope: Envelope, event: DomainEvent) -> bool:
        return isinstance(event, ApplicationSubmitted)

    async def prepare(self, conn: asyncpg.Connection, items: Sequence[Item]) -> list[CasePlan | None]:
        submitted = [event for _, event in items if isinstance(event, ApplicationSubmitted)]
        assert len(submitted) == len(items)
        versions = await self.store.stream_versions(conn, [stream_of(e.application_id) for e in submitted])
        catalog = await self.catalogs.current()
        plans: list[CasePlan | None] = []
        for (envelope, _), event in zip(items, submitted, strict=True):
            application_id = event.application_id
            if versions.get(stream_of(application_id), 0) != 0:
                plans.append(None)  # a case already: the single-record path decides what it means
                continue
            command = c.OpenCase(event)
            meta = Meta(actor_of_command(command), envelope.correlation_id or application_id, envelope.id)
            try:
                plans.append(
                    self.handlers.plan(
                        catalog, OnCase(application_id, command), replay(application_id, []), None, meta
                    )
                )
            except Exception as exc:  # reported, retried or dead-lettered on its own path
                log.info("case left out of the batch", error=type(exc).__name__)
                plans.append(None)
        return plans

    async def write(self, conn: asyncpg.Connection, plans: Sequence[CasePlan]) -> None:
        cases = [p for p in plans if p.events]
        if not cases:
            return
        streams = [stream_of(p.application_id) for p in cases]
        versions = await self.store.append_batch_heads(
            conn,
            [(s, [new_event(e, p.metadata) for e in p.events]) for s, p in zip(streams, cases, strict=True)],
        )
        for stream, plan in zip(streams, cases, strict=True):
            expected = plan.version + len(plan.events)
            if versions.get(stream) != expected:
                raise ConcurrencyConflict(stream, plan.version, versions.get(stream, 0) - len(plan.events))
        for plan in cases:
            if plan.timers:
                await self.timers.apply(conn, plan.application_id, plan.timers)
        await self.projection.upsert_many(conn, [p.after for p in cases])
        for plan in cases:
            if plan.audit is not None:
                await self.audit.append(conn, plan.audit)
        after_commit(_logged(cases))


def _logged(cases: Sequence[CasePlan]) -> AfterCommit:
    """Once the batch committed, one log line naming its conversations (correlation ids: the
    single-command path logs one line per command through the bus), never a case's data."""
    correlation_ids = [p.metadata.get("correlation_id") for p in cases]

    async def log_opened() -> None:
        log.info("cases opened", count=len(correlation_ids), correlation_ids=correlation_ids)

    return log_opened
