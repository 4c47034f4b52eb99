"""The unit of work: one transaction for a command's events, projection rows, audit record and
timers, and the actions that may only run once it has committed.

`PgUnitOfWork` is the PostgreSQL adapter; each service subclasses it to bind its own
repositories to the connection (`_bind`). A unit *joined* to a caller's connection (the inbox
consumer's batch transaction) runs in a savepoint and hands its after-commit actions to the
caller, which runs them once the whole batch commits.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Protocol, Self

import asyncpg
import structlog
from asyncpg.transaction import Transaction

from shared.audit import AuditEntry, AuditKey, AuditLog
from shared.eventstore import EventStore
from shared.eventstore.ports import EventSession
from shared.eventstore.records import AppendResult, NewEvent
from shared.eventstore.store import PgEventSession
from shared.service_layer.retry import UNAVAILABLE

log = structlog.get_logger(__name__)

AfterCommit = Callable[[], Awaitable[None]]
PassOn = Callable[[AfterCommit], None]
"""Where a joined unit hands its after-commit actions (the enclosing transaction's owner)."""


class AuditSession(Protocol):
    async def append(self, entry: AuditEntry) -> None: ...


class AuditedAppend(Protocol):
    """A unit's `append_audited`, handed to a service's stream repository."""

    async def __call__(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int | None, entry: AuditEntry
    ) -> AppendResult: ...


class UnitOfWork(Protocol):
    """What every service's unit offers its handlers; services add their own repositories."""

    @property
    def events(self) -> EventSession: ...

    @property
    def audit(self) -> AuditSession: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def after_commit(self, action: AfterCommit) -> None: ...

    async def append_audited(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int | None, entry: AuditEntry
    ) -> AppendResult:
        """`events.append` and then `audit.append(entry)`, as one statement where the store can
        (PostgreSQL: one round trip fewer while the command holds its locks, issue 14)."""
        ...


async def run_after_commit(actions: list[AfterCommit]) -> None:
    """Run each action; one that fails is logged (by type) and never undoes the commit."""
    for action in actions:
        try:
            await action()
        except Exception as exc:
            log.warning("after-commit action failed", error=type(exc).__name__)


class _PgAuditSession:
    def __init__(self, log_: AuditLog, conn: asyncpg.Connection) -> None:
        self._log = log_
        self._conn = conn

    async def append(self, entry: AuditEntry) -> None:
        await self._log.append(self._conn, entry)


class CommitOutcomeUnknown(Exception):
    """The connection broke while COMMIT was on its way: the command may or may not have been
    stored. Never retried blindly (a command without an idempotency key would be applied twice);
    the caller checks, then repeats if need be."""


class PgUnitOfWork:
    """A transaction on a pool connection (or a savepoint on a caller's connection)."""

    events: PgEventSession
    audit: AuditSession

    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        *,
        conn: asyncpg.Connection | None = None,
        pass_on: PassOn | None = None,
        repeatable: bool = False,
    ) -> None:
        """`repeatable`: running the work twice is harmless (an inbox claim makes a consumer's
        redelivery a no-op), so a commit that broke off may simply be retried."""
        self.pool = pool
        self.schema = schema
        self._joined = conn
        self._pass_on = pass_on
        self._repeatable = repeatable
        self._store = EventStore(schema)
        self._audit_log = AuditLog(schema)
        self._conn: asyncpg.Connection | None = None
        self._transaction: Transaction | None = None
        self._actions: list[AfterCommit] = []

    def joined(self, conn: asyncpg.Connection, pass_on: PassOn | None = None) -> Self:
        """A unit of the same kind inside the caller's transaction on `conn`."""
        return type(self)(self.pool, self.schema, conn=conn, pass_on=pass_on)

    @property
    def audit_key(self) -> AuditKey:
        """The key this unit's audit records are made with (and ИИН pseudonyms derived from)."""
        return self._audit_log.key

    @property
    def conn(self) -> asyncpg.Connection:
        if self._conn is None:
            raise RuntimeError("the unit of work is not open")
        return self._conn

    def _bind(self, conn: asyncpg.Connection) -> None:
        """Bind the repositories to `conn`; services extend this with their own."""
        self.events = self._store.session(conn)
        self.audit = _PgAuditSession(self._audit_log, conn)

    async def __aenter__(self) -> Self:
        self._actions = []
        if self._joined is not None and not self._joined.is_in_transaction():
            raise RuntimeError("a joined unit of work needs its caller's open transaction")
        conn = self._joined if self._joined is not None else await self.pool.acquire()
        try:
            self._transaction = conn.transaction()
            await self._transaction.start()
        except BaseException:
            if self._joined is None:
                await self.pool.release(conn)
            raise
        self._conn = conn
        self._bind(conn)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        conn, transaction = self._conn, self._transaction
        assert conn is not None and transaction is not None
        self._conn = self._transaction = None
        committed = False
        try:
            if error is None:
                try:
                    await transaction.commit()
                except Exception as exc:
                    broken = isinstance(exc, UNAVAILABLE) or conn.is_closed()
                    if broken and self._joined is None and not self._repeatable:
                        raise CommitOutcomeUnknown("the connection broke while committing") from exc
                    if broken:  # repeatable work: the caller may simply run it again
                        raise ConnectionError("the connection broke while committing") from exc
                    raise
                committed = True
            else:
                await transaction.rollback()
        finally:
            if self._joined is None:
                await self.pool.release(conn)
        actions, self._actions = self._actions, []
        if not committed:
            return
        if self._joined is None:
            await run_after_commit(actions)
        elif self._pass_on is not None:
            for action in actions:
                self._pass_on(action)
        elif actions:
            raise RuntimeError("a joined unit of work has after-commit actions but nobody to run them")

    def after_commit(self, action: AfterCommit) -> None:
        self._actions.append(action)

    async def append_audited(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int | None, entry: AuditEntry
    ) -> AppendResult:
        """The events and the action's audit record in one statement (`EventStore.append_audited`).
        A refusal raises as `events.append` does, having recorded nothing; events stored already
        (a repeat) are a no-op whose action is recorded all the same, as an append then an audit."""
        attempt = self._audit_log.attempt(entry)
        result, head = await self._store.append_audited(
            self.conn, stream_id, events, expected_version, attempt.args
        )
        if result.appended:
            await self._audit_log.settle(self.conn, attempt, head)
        else:
            await self._audit_log.append(self.conn, entry)
        return result
