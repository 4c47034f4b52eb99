"""An in-memory unit of work: the fake the service-layer unit tests run their handlers on.

It keeps the PostgreSQL unit's promises: the events (`InMemoryEventStore`), the audit records
and whatever a service's own repositories stage commit together when the block exits cleanly
and vanish if it raises; after-commit actions run only after a commit. Services subclass it and
stage their repositories in `_begin` / publish them in `_commit`.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Self

from shared.audit import AuditEntry
from shared.eventstore.memory import InMemoryEventStore, InMemorySession
from shared.eventstore.records import AppendResult, NewEvent
from shared.service_layer.unit_of_work import AfterCommit, run_after_commit


class InMemoryAudit:
    """Audit records of committed units, in order."""

    def __init__(self) -> None:
        self.records: list[AuditEntry] = []


class _StagedAudit:
    def __init__(self) -> None:
        self.staged: list[AuditEntry] = []

    async def append(self, entry: AuditEntry) -> None:
        self.staged.append(entry)


class InMemoryUnitOfWork:
    def __init__(self, store: InMemoryEventStore | None = None, audit: InMemoryAudit | None = None) -> None:
        self.store = store or InMemoryEventStore()
        self.audit_log = audit or InMemoryAudit()
        self.commits = 0
        self._transaction: AbstractAsyncContextManager[InMemorySession] | None = None
        self._actions: list[AfterCommit] = []

    async def __aenter__(self) -> Self:
        self._actions = []
        self._transaction = self.store.transaction()
        self.events = await self._transaction.__aenter__()
        self.audit = _StagedAudit()
        self._begin()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        transaction, self._transaction = self._transaction, None
        assert transaction is not None
        actions, self._actions = self._actions, []
        await transaction.__aexit__(kind, error, tb)  # raises ConcurrencyConflict on a lost race
        if error is not None:
            return
        self.audit_log.records.extend(self.audit.staged)
        self._commit()
        self.commits += 1
        await run_after_commit(actions)

    def after_commit(self, action: AfterCommit) -> None:
        self._actions.append(action)

    async def append_audited(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int | None, entry: AuditEntry
    ) -> AppendResult:
        if not events:  # as the PostgreSQL unit
            raise ValueError("an audited append needs events")
        result = await self.events.append(stream_id, events, expected_version)
        await self.audit.append(entry)
        return result

    def _begin(self) -> None:
        """Stage the service's own repositories for this unit."""

    def _commit(self) -> None:
        """Publish what the service's repositories staged."""
