"""PostgreSQL event store of one service schema.

Every method takes the connection to work on, so the caller decides the transaction:
events, projection rows and audit records commit together (the transactional outbox).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from shared.db.identifiers import checked_identifier
from shared.db.pool import dumps
from shared.eventstore.errors import ConcurrencyConflict, PartialDuplicate
from shared.eventstore.records import AppendResult, EventPayload, GlobalCursor, NewEvent, StoredEvent
from shared.eventstore.statements import statements

_EMPTY = "{}"

ANY_VERSION: int | None = None
"""Pass as `expected_version` to append whatever the stream's version is."""


def _stored(row: asyncpg.Record) -> StoredEvent:
    return StoredEvent._make(row)  # `statements.COLUMNS` lists the columns in the order of the fields


class EventStore:
    def __init__(self, schema: str) -> None:
        self.schema = checked_identifier(schema)
        self._table = f"{self.schema}.events"
        self._sql = statements(self.schema)

    def session(self, conn: asyncpg.Connection) -> PgEventSession:
        """This store on `conn`, as the unit-of-work port (`shared.eventstore.ports.EventSession`)."""
        return PgEventSession(self, conn)

    async def append(
        self,
        conn: asyncpg.Connection,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: int | None,
    ) -> AppendResult:
        """Append `events` to `stream_id` if it is at `expected_version` (None: any version).

        Appending event ids that are all stored already is a no-op. A concurrent writer that
        got there first makes this raise `ConcurrencyConflict`. One statement, no savepoint:
        a refusal writes nothing and leaves the caller's transaction usable.
        """
        if not events:
            return AppendResult(stream_id, await self.stream_version(conn, stream_id), 0)
        try:
            versions = await conn.fetch(self._sql.append, *_append_args(stream_id, events, expected_version))
        except asyncpg.UniqueViolationError as exc:
            return await self._unique_violation(conn, stream_id, events, expected_version, exc)
        if versions:
            return AppendResult(stream_id, max(r["version"] for r in versions), len(versions))
        return await self._refused(conn, stream_id, events, expected_version)

    async def append_audited(
        self,
        conn: asyncpg.Connection,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: int | None,
        audit_args: Sequence[Any],
    ) -> tuple[AppendResult, asyncpg.Record]:
        """`append`, and in the same statement `audit_append(*audit_args)` only if the events went
        in (`shared.audit.log.AuditLog`: the caller settles the record with the answer, `head_seq`
        NULL: inserted, else the chain's moved head). Nothing appended: nothing recorded, and the
        refusal raises or answers the no-op as `append` does."""
        if not events:
            raise ValueError("an audited append needs events")
        if not conn.is_in_transaction():  # the action and its record commit together or not at all
            raise RuntimeError("an audited append runs in the caller's transaction")
        args = _append_args(stream_id, events, expected_version)
        try:
            row = await conn.fetchrow(self._sql.append_audited, *args, *audit_args)
        except asyncpg.UniqueViolationError as exc:  # in its transaction: raises as `append` does
            await self._unique_violation(conn, stream_id, events, expected_version, exc)
            raise  # not reached: in a transaction `_unique_violation` raises ConcurrencyConflict
        assert row is not None
        if row["version"] is not None:
            return AppendResult(stream_id, row["version"], len(events)), row
        return await self._refused(conn, stream_id, events, expected_version), row

    async def _unique_violation(
        self,
        conn: asyncpg.Connection,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: int | None,
        exc: asyncpg.UniqueViolationError,
    ) -> AppendResult:
        # Only when the stream's row and its events disagree, or these event ids are stored in
        # another stream: nothing normal gets here. Inside a transaction it is aborted now.
        if conn.is_in_transaction():
            raise ConcurrencyConflict(stream_id, _expected(expected_version), -1) from exc
        return await self._refused(conn, stream_id, events, expected_version, exc)

    async def _refused(
        self,
        conn: asyncpg.Connection,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: int | None,
        cause: BaseException | None = None,
    ) -> AppendResult:
        """Nothing was appended: a no-op result if every id is stored already, else the typed error."""
        refusal = await self._refusal(conn, stream_id, [e.event_id for e in events], expected_version)
        if isinstance(refusal, AppendResult):
            return refusal
        raise refusal from cause

    async def _refusal(
        self, conn: asyncpg.Connection, stream_id: str, ids: list[uuid.UUID], expected: int | None
    ) -> AppendResult | PartialDuplicate | ConcurrencyConflict:
        """Why nothing was appended: all ids stored already (a no-op result) or a typed error."""
        row = await conn.fetchrow(self._sql.refusal, ids, stream_id)
        assert row is not None
        if row["stored"] == len(ids):
            return AppendResult(stream_id, row["version"], 0)
        if row["stored"]:
            return PartialDuplicate(stream_id, row["stored"], len(ids))
        return ConcurrencyConflict(stream_id, _expected(expected), row["version"])

    async def append_batch(
        self, conn: asyncpg.Connection, batch: Sequence[tuple[str, Sequence[NewEvent]]]
    ) -> int:
        """Append events to many streams in one statement, each at its current version.

        For bulk ingestion (imports, benchmarks): no expected-version check, but a concurrent
        writer to one of the streams still makes the whole batch fail with a conflict.
        """
        args = _batch_args(batch)
        if args is None:
            return 0
        try:
            if conn.is_in_transaction():  # keep the caller's transaction usable if the batch fails
                async with conn.transaction():
                    await conn.execute(self._sql.append_batch, *args)
            else:
                await conn.execute(self._sql.append_batch, *args)
        except (asyncpg.UniqueViolationError, asyncpg.NotNullViolationError) as exc:
            raise ConcurrencyConflict(_one_or_batch(args[0]), -1, -1) from exc
        return len(args[5])

    async def append_batch_heads(
        self, conn: asyncpg.Connection, batch: Sequence[tuple[str, Sequence[NewEvent]]]
    ) -> dict[str, int]:
        """`append_batch` for a caller whose transaction rolls back as a whole if it fails (a
        consumer's batch): no savepoint around it (two statements fewer); each stream's version
        after it, so the caller can check its streams held what it planned on without reading
        them again. A conflict leaves the caller's transaction aborted."""
        args = _batch_args(batch)
        if args is None:
            return {}
        try:
            rows = await conn.fetch(self._sql.append_batch_heads, *args)
        except (asyncpg.UniqueViolationError, asyncpg.NotNullViolationError) as exc:
            raise ConcurrencyConflict(_one_or_batch(args[0]), -1, -1) from exc
        return {row["stream_id"]: row["version"] for row in rows}

    async def stream_version(self, conn: asyncpg.Connection, stream_id: str) -> int:
        version: int = await conn.fetchval(self._sql.stream_version, stream_id)
        return version

    async def stream_versions(self, conn: asyncpg.Connection, streams: Sequence[str]) -> dict[str, int]:
        """The version of each of `streams` (0: none yet), in one statement."""
        rows = await conn.fetch(self._sql.stream_versions, list(streams))
        return {row["stream_id"]: row["version"] for row in rows}

    async def load(
        self, conn: asyncpg.Connection, stream_id: str, after_version: int = 0
    ) -> list[StoredEvent]:
        rows = await conn.fetch(self._sql.load, stream_id, after_version)
        return [_stored(row) for row in rows]

    async def read_committed(
        self, conn: asyncpg.Connection, after: GlobalCursor, limit: int = 1000
    ) -> list[StoredEvent]:
        """Read events by (transaction id, position), never skipping one that commits later.

        Only events written by transactions older than every transaction still running that could
        write here are returned (`txid < event_horizon()`, migration 0008: a transaction of another
        database, or of a login that may not insert these events, does not count), so a later
        call cannot find an event "behind" the cursor. For transactions that did not overlap this is commit
        order; of two that overlapped, the one that started first is read first, even if it
        committed last (per-stream order holds: an older transaction cannot append behind a
        newer writer of the same stream).
        """
        rows = await conn.fetch(self._sql.read_committed, str(after.txid), after.position, limit)
        return [_stored(row) for row in rows]

    async def read_committed_payloads(
        self, conn: asyncpg.Connection, after: GlobalCursor, limit: int = 1000
    ) -> list[EventPayload]:
        """`read_committed` for a projection: the same events in the same gap-safe order, each
        without its metadata and recording time (half the client's work per event)."""
        rows = await conn.fetch(self._sql.read_payloads, str(after.txid), after.position, limit)
        return [EventPayload._make(row) for row in rows]

    async def read_committed_for_publishing(
        self, conn: asyncpg.Connection, after: GlobalCursor, limit: int = 1000
    ) -> list[asyncpg.Record]:
        """Like `read_committed`, but the data stays JSON text and metadata comes as columns.

        The relay only forwards bytes: decoding and re-encoding every payload would cost more
        than the rest of its work.
        """
        rows: list[asyncpg.Record] = await conn.fetch(
            self._sql.read_for_publishing, str(after.txid), after.position, limit
        )
        return rows

    async def head(self, conn: asyncpg.Connection) -> GlobalCursor:
        """The cursor after the last event visible to a gap-safe reader now."""
        row = await conn.fetchrow(
            f"SELECT e.txid::text::bigint AS txid, e.position FROM {self._table} e"
            f" WHERE e.txid < (SELECT {self.schema}.event_horizon())"
            " ORDER BY e.txid DESC, e.position DESC LIMIT 1"
        )
        return GlobalCursor() if row is None else GlobalCursor(row["txid"], row["position"])

    async def count(self, conn: asyncpg.Connection) -> int:
        total: int = await conn.fetchval(f"SELECT count(*) FROM {self._table}")
        return total


def _append_args(stream_id: str, events: Sequence[NewEvent], expected_version: int | None) -> tuple[Any, ...]:
    """The append statements' $1..$7: the stream, the expected version, the events' columns."""
    return (
        stream_id,
        expected_version,
        [e.event_id for e in events],
        [e.event_type for e in events],
        [e.schema_version for e in events],
        [dumps(e.data) for e in events],
        [_EMPTY if not e.metadata else dumps(e.metadata) for e in events],
    )


def _expected(expected: int | None) -> int:
    return -1 if expected is None else expected


def _one_or_batch(streams: list[str]) -> str:
    return streams[0] if len(streams) == 1 else "<batch>"


def _batch_args(batch: Sequence[tuple[str, Sequence[NewEvent]]]) -> tuple[list[Any], ...] | None:
    """The batch statements' arguments: per distinct stream its event count, per event its stream,
    its place in that stream and the stream's count, then the events' columns. None: no events."""
    counts: dict[str, int] = {}  # events per stream so far: each event's place in its stream
    streams: list[str] = []
    places: list[int] = []
    flat: list[NewEvent] = []
    for stream, events in batch:
        for event in events:
            counts[stream] = counts.get(stream, 0) + 1
            streams.append(stream)
            places.append(counts[stream])
            flat.append(event)
    if not flat:
        return None
    return (
        list(counts),
        list(counts.values()),
        streams,
        places,
        [counts[stream] for stream in streams],
        [e.event_id for e in flat],
        [e.event_type for e in flat],
        [e.schema_version for e in flat],
        [dumps(e.data) for e in flat],
        [_EMPTY if not e.metadata else dumps(e.metadata) for e in flat],
    )


class PgEventSession:
    """`EventStore` bound to one connection (and so to its transaction)."""

    def __init__(self, store: EventStore, conn: asyncpg.Connection) -> None:
        self.store = store
        self.conn = conn

    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int | None
    ) -> AppendResult:
        return await self.store.append(self.conn, stream_id, events, expected_version)

    async def load(self, stream_id: str, after_version: int = 0) -> list[StoredEvent]:
        return await self.store.load(self.conn, stream_id, after_version)

    async def stream_version(self, stream_id: str) -> int:
        return await self.store.stream_version(self.conn, stream_id)


def cursor_of(event: StoredEvent | EventPayload | None, default: GlobalCursor | None = None) -> GlobalCursor:
    if event is None:
        return default or GlobalCursor()
    return GlobalCursor(event.txid, event.position)


async def read_naive(
    conn: asyncpg.Connection, schema: str, after_position: int, limit: int = 1000
) -> list[dict[str, Any]]:
    """The WRONG way to tail the log (`position > last`), kept to prove the gap-safe reader's worth.

    Sequence values commit out of order: this reader can move past an event whose
    transaction commits later, and never see it. Only tests use it.
    """
    rows = await conn.fetch(
        f"SELECT position, event_id FROM {checked_identifier(schema)}.events"
        " WHERE position > $1 ORDER BY position LIMIT $2",
        after_position,
        limit,
    )
    return [dict(row) for row in rows]
