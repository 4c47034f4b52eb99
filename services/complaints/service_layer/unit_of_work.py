"""The complaints unit of work: complaint streams, idempotency keys, registration numbers, review
timers, the complaints projection, the applications read model and the audit log, in one
transaction."""

from __future__ import annotations

import asyncpg

from services.complaints.adapters.projection import ComplaintRows
from services.complaints.adapters.queries import ComplaintQueries
from services.complaints.adapters.read_model import ApplicationFacts
from services.complaints.adapters.repository import ComplaintStreams, IdempotencyKeys, RegistrationNumbers
from services.complaints.adapters.timers import BoundTimers, TimerStore
from shared.contracts.event import DomainEvent
from shared.service_layer import PgUnitOfWork


class BoundRows:
    def __init__(self, rows: ComplaintRows, conn: asyncpg.Connection) -> None:
        self.rows = rows
        self.conn = conn

    async def apply(self, event: DomainEvent, version: int) -> None:
        await self.rows.apply(self.conn, event, version)


class PgComplaintsUnit(PgUnitOfWork):
    complaints: ComplaintStreams
    keys: IdempotencyKeys
    numbers: RegistrationNumbers
    timers: BoundTimers
    rows: BoundRows

    def _bind(self, conn: asyncpg.Connection) -> None:
        super()._bind(conn)
        self.complaints = ComplaintStreams(self.events, self.append_audited)
        self.keys = IdempotencyKeys(self.schema, conn)
        self.numbers = RegistrationNumbers(self.schema, conn)
        self.timers = BoundTimers(TimerStore(self.schema), conn)
        self.rows = BoundRows(ComplaintRows(self.schema), conn)
        self.facts = ApplicationFacts(self.schema)
        self.queries = ComplaintQueries(self.schema)
