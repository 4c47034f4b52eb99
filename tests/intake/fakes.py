"""The intake unit of work in memory: what the service-layer unit tests run the handlers on."""

from __future__ import annotations

from typing import Any

from services.intake.adapters.repository import ApplicationStreams, IdempotencyRecord, KeyClaim
from shared.eventstore.memory import InMemoryEventStore
from shared.service_layer.memory import InMemoryAudit, InMemoryUnitOfWork


class IntakeWorld:
    """What the database would hold: events, audit records, keys, counters, the status rows."""

    def __init__(self) -> None:
        self.store = InMemoryEventStore()
        self.audit = InMemoryAudit()
        self.keys: dict[tuple[str, str], IdempotencyRecord] = {}
        self.counters: dict[tuple[str, int], int] = {}
        self.status_rows: list[dict[str, Any]] = []

    def begin(self) -> FakeIntakeUnit:
        return FakeIntakeUnit(self)


class _Keys:
    def __init__(self, committed: dict[tuple[str, str], IdempotencyRecord]) -> None:
        self.committed = committed
        self.staged: dict[tuple[str, str], IdempotencyRecord] = {}

    async def find(self, scope: str, key: str) -> IdempotencyRecord | None:
        return self.staged.get((scope, key)) or self.committed.get((scope, key))

    async def claim(self, scope: str, key: str, digest: str, application_id: str, outcome: str) -> bool:
        if await self.find(scope, key) is not None:
            return False
        import uuid

        self.staged[(scope, key)] = IdempotencyRecord(digest, uuid.UUID(application_id), outcome)
        return True


class _Numbers:
    def __init__(self, committed: dict[tuple[str, int], int], keys: _Keys) -> None:
        self.committed = committed
        self.staged: dict[tuple[str, int], int] = {}
        self.keys = keys

    async def claim_with_number(self, claim: KeyClaim, office_id: str, year: int) -> str | None:
        if not await self.keys.claim(
            claim.scope, claim.key, claim.digest, claim.application_id, claim.outcome
        ):
            return None
        return await self.next(office_id, year)

    async def next(self, office_id: str, year: int) -> str:
        key = (office_id, year)
        number = self.staged.get(key, self.committed.get(key, 0)) + 1
        self.staged[key] = number
        return f"{office_id}-{year:04d}-{number:06d}"


class _Applicants:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    async def by_iin(
        self, iin: str, offices: list[str] | None, received_by: str | None
    ) -> list[dict[str, Any]]:
        return [
            r
            for r in self.rows
            if r["applicant_iin"] == iin
            and (offices is None or r["office_id"] in offices)
            and (received_by is None or r["received_by"] == received_by)
        ]


class FakeIntakeUnit(InMemoryUnitOfWork):
    def __init__(self, world: IntakeWorld) -> None:
        super().__init__(world.store, world.audit)
        self.world = world

    def _begin(self) -> None:
        self.applications = ApplicationStreams(self.events, self.append_audited)
        self.keys = _Keys(self.world.keys)
        self.numbers = _Numbers(self.world.counters, self.keys)
        self.applicants = _Applicants(self.world.status_rows)

    def _commit(self) -> None:
        self.world.keys.update(self.keys.staged)
        self.world.counters.update(self.numbers.staged)
