"""The intake unit of work: application streams, idempotency keys, registration numbers, the
audit log and (for the audited ИИН lookup) the status view, in one transaction. `IntakeUnit` is
the port the handlers use; `PgIntakeUnit` the PostgreSQL adapter."""

from __future__ import annotations

from typing import Any, Protocol

import asyncpg

from services.intake.adapters.queries import ApplicationQueries
from services.intake.adapters.repository import (
    ApplicationStreams,
    IdempotencyKeys,
    IdempotencyRecord,
    KeyClaim,
    RegistrationNumbers,
)
from shared.service_layer import PgUnitOfWork, UnitOfWork


class KeySession(Protocol):
    async def find(self, scope: str, key: str) -> IdempotencyRecord | None: ...

    async def claim(self, scope: str, key: str, digest: str, application_id: str, outcome: str) -> bool: ...


class NumberSession(Protocol):
    async def claim_with_number(self, claim: KeyClaim, office_id: str, year: int) -> str | None: ...


class ApplicantIndex(Protocol):
    async def by_iin(
        self, iin: str, offices: list[str] | None, received_by: str | None
    ) -> list[dict[str, Any]]: ...


class IntakeUnit(UnitOfWork, Protocol):
    @property
    def applications(self) -> ApplicationStreams: ...

    @property
    def keys(self) -> KeySession: ...

    @property
    def numbers(self) -> NumberSession: ...

    @property
    def applicants(self) -> ApplicantIndex: ...


class _BoundQueries:
    def __init__(self, queries: ApplicationQueries, conn: asyncpg.Connection) -> None:
        self.queries = queries
        self.conn = conn

    async def by_iin(
        self, iin: str, offices: list[str] | None, received_by: str | None
    ) -> list[dict[str, Any]]:
        return await self.queries.by_iin(self.conn, iin, offices, received_by)


class PgIntakeUnit(PgUnitOfWork):
    applications: ApplicationStreams
    keys: KeySession
    numbers: NumberSession
    applicants: ApplicantIndex

    def _bind(self, conn: asyncpg.Connection) -> None:
        super()._bind(conn)
        self.applications = ApplicationStreams(self.events, self.append_audited)
        self.keys = IdempotencyKeys(self.schema, conn)
        self.numbers = RegistrationNumbers(self.schema, conn)
        self.applicants = _BoundQueries(ApplicationQueries(self.schema), conn)
