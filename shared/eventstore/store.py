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
from shared.eventstore.errors import ConcurrencyConflict, PartialDuplicate
from shared.eventstore.records import AppendResult, GlobalCursor, NewEvent, StoredEvent

ANY_VERSION: int | None = None
"""Pass as `expected_version` to append whatever the stream's version is."""

_COLUMNS = (
    "e.position, e.txid::text::bigint AS txid, e.stream_id, e.version, e.event_id, e.event_type,"
    " e.schema_version, e.data, e.metadata, e.recorded_at"
)
_COMMITTED_AFTER_CURSOR = (
    " WHERE (e.txid, e.position) > ($1::text::xid8, $2)"
    " AND e.txid < pg_snapshot_xmin(pg_current_snapshot())"
    " ORDER BY e.txid, e.position LIMIT $3"
)
"""The gap-safe page: after the cursor, below every running transaction, in (txid, position) order."""
# Always qualify `e.txid` in WHERE/ORDER BY: bare `txid` in ORDER BY would name the bigint output
# column and force a sort of the whole table instead of an index scan on (txid, position).


def _stored(row: asyncpg.Record) -> StoredEvent:
    return StoredEvent(
        position=row["position"],
        txid=row["txid"],
        stream_id=row["stream_id"],
        version=row["version"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        schema_version=row["schema_version"],
        data=row["data"],
        metadata=row["metadata"],
        recorded_at=row["recorded_at"],
    )


class EventStore:
    def __init__(self, schema: str) -> None:
        self.schema = checked_identifier(schema)
        self._table = f"{self.schema}.events"
        # Insert only if the stream is at the expected version ($2; NULL = any) and none of the
        # event ids is stored yet; versions follow the stream's current one. A concurrent writer
        # makes the unique index on (stream_id, version) refuse the insert.
        self._append_sql = (
            f"WITH current AS (SELECT coalesce(max(version), 0) AS v FROM {self._table} WHERE stream_id = $1)"
            f" INSERT INTO {self._table}"
            " (stream_id, version, event_id, event_type, schema_version, data, metadata)"
            " SELECT $1, current.v + u.ord, u.event_id, u.event_type, u.schema_version, u.data, u.metadata"
            " FROM current, unnest($3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[])"
            " WITH ORDINALITY AS u(event_id, event_type, schema_version, data, metadata, ord)"
            " WHERE ($2::int IS NULL OR current.v = $2::int)"
            f" AND NOT EXISTS (SELECT 1 FROM {self._table} WHERE event_id = ANY($3::uuid[]))"
            # A transaction older than one that already wrote to this stream must not append to
            # it: readers order by transaction id, so its events would overtake the newer ones.
            f" AND NOT EXISTS (SELECT 1 FROM {self._table}"
            " WHERE stream_id = $1 AND txid > pg_current_xact_id())"
            " ON CONFLICT (event_id) DO NOTHING"
            " RETURNING version"
        )

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
        got there first makes this raise `ConcurrencyConflict`.
        """
        if not events:
            return AppendResult(stream_id, await self.stream_version(conn, stream_id), 0)
        ids = [e.event_id for e in events]
        try:
            # One statement does the whole check-and-insert: the savepoint (or transaction) only
            # matters when it fails, so that the caller's transaction survives a conflict.
            async with conn.transaction():
                versions = await conn.fetch(
                    self._append_sql,
                    stream_id,
                    expected_version,
                    ids,
                    [e.event_type for e in events],
                    [e.schema_version for e in events],
                    [e.data for e in events],
                    [e.metadata for e in events],
                )
                if len(versions) == len(events):
                    return AppendResult(stream_id, max(r["version"] for r in versions), len(events))
                if versions:
                    raise PartialDuplicate(stream_id, len(events) - len(versions), len(events))
        except asyncpg.UniqueViolationError as exc:
            # A concurrent writer committed first (its transaction is visible now): the same event
            # ids (an idempotent no-op) or another append to the stream (a conflict).
            refusal = await self._refusal(conn, stream_id, ids, expected_version)
            if isinstance(refusal, AppendResult):
                return refusal
            raise refusal from exc
        refusal = await self._refusal(conn, stream_id, ids, expected_version)
        if isinstance(refusal, AppendResult):
            return refusal
        raise refusal

    async def _refusal(
        self, conn: asyncpg.Connection, stream_id: str, ids: list[uuid.UUID], expected: int | None
    ) -> AppendResult | PartialDuplicate | ConcurrencyConflict:
        """Why nothing was appended: all ids stored already (a no-op result) or a typed error."""
        row = await conn.fetchrow(
            f"SELECT (SELECT count(*) FROM {self._table} WHERE event_id = ANY($1::uuid[])) AS stored,"
            f" (SELECT coalesce(max(version), 0) FROM {self._table} WHERE stream_id = $2) AS version",
            ids,
            stream_id,
        )
        assert row is not None
        if row["stored"] == len(ids):
            return AppendResult(stream_id, row["version"], 0)
        if row["stored"]:
            return PartialDuplicate(stream_id, row["stored"], len(ids))
        return ConcurrencyConflict(stream_id, -1 if expected is None else expected, row["version"])

    async def append_batch(
        self, conn: asyncpg.Connection, batch: Sequence[tuple[str, Sequence[NewEvent]]]
    ) -> int:
        """Append events to many streams in one statement, each at its current version.

        For bulk ingestion (imports, benchmarks): no expected-version check, but a concurrent
        writer to one of the streams still makes the whole batch fail with a conflict.
        """
        streams = sorted({stream for stream, _ in batch})
        async with conn.transaction():
            rows = await conn.fetch(
                f"SELECT stream_id, max(version) AS v FROM {self._table}"
                " WHERE stream_id = ANY($1::text[]) GROUP BY stream_id",
                streams,
            )
            versions = {row["stream_id"]: row["v"] for row in rows}
            planned: list[tuple[str, int, NewEvent]] = []
            for stream, events in batch:
                for event in events:
                    versions[stream] = versions.get(stream, 0) + 1
                    planned.append((stream, versions[stream], event))
            try:
                await self._insert(conn, planned)
            except asyncpg.UniqueViolationError as exc:
                raise ConcurrencyConflict(streams[0] if len(streams) == 1 else "<batch>", -1, -1) from exc
        return len(planned)

    async def _insert(self, conn: asyncpg.Connection, planned: Sequence[tuple[str, int, NewEvent]]) -> None:
        await conn.execute(
            f"INSERT INTO {self._table}"
            " (stream_id, version, event_id, event_type, schema_version, data, metadata)"
            " SELECT * FROM unnest($1::text[], $2::int[], $3::uuid[], $4::text[], $5::int[],"
            " $6::jsonb[], $7::jsonb[])",
            [p[0] for p in planned],
            [p[1] for p in planned],
            [p[2].event_id for p in planned],
            [p[2].event_type for p in planned],
            [p[2].schema_version for p in planned],
            [p[2].data for p in planned],
            [p[2].metadata for p in planned],
        )

    async def stream_version(self, conn: asyncpg.Connection, stream_id: str) -> int:
        version: int = await conn.fetchval(
            f"SELECT coalesce(max(version), 0) FROM {self._table} WHERE stream_id = $1", stream_id
        )
        return version

    async def load(
        self, conn: asyncpg.Connection, stream_id: str, after_version: int = 0
    ) -> list[StoredEvent]:
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM {self._table} e WHERE e.stream_id = $1 AND e.version > $2"
            " ORDER BY e.version",
            stream_id,
            after_version,
        )
        return [_stored(row) for row in rows]

    async def read_committed(
        self, conn: asyncpg.Connection, after: GlobalCursor, limit: int = 1000
    ) -> list[StoredEvent]:
        """Read events by (transaction id, position), never skipping one that commits later.

        Only events written by transactions older than every transaction still running are
        returned (`txid < pg_snapshot_xmin(pg_current_snapshot())`), so a later call cannot find
        an event "behind" the cursor. For transactions that did not overlap this is commit
        order; of two that overlapped, the one that started first is read first, even if it
        committed last (per-stream order holds: an older transaction cannot append behind a
        newer writer of the same stream).
        """
        rows = await conn.fetch(
            f"SELECT {_COLUMNS} FROM {self._table} e" + _COMMITTED_AFTER_CURSOR,
            str(after.txid),
            after.position,
            limit,
        )
        return [_stored(row) for row in rows]

    async def read_committed_for_publishing(
        self, conn: asyncpg.Connection, after: GlobalCursor, limit: int = 1000
    ) -> list[asyncpg.Record]:
        """Like `read_committed`, but the data stays JSON text and metadata comes as columns.

        The relay only forwards bytes: decoding and re-encoding every payload would cost more
        than the rest of its work.
        """
        rows: list[asyncpg.Record] = await conn.fetch(
            f"SELECT e.position, e.txid::text::bigint AS txid, e.stream_id, e.event_id, e.event_type,"
            " e.schema_version, e.data::text AS data_json, e.recorded_at,"
            " e.metadata->>'correlation_id' AS correlation_id, e.metadata->>'causation_id' AS causation_id,"
            " e.metadata->>'actor' AS actor, e.metadata->>'office' AS office,"
            " e.metadata->>'region' AS region"
            f" FROM {self._table} e" + _COMMITTED_AFTER_CURSOR,
            str(after.txid),
            after.position,
            limit,
        )
        return rows

    async def head(self, conn: asyncpg.Connection) -> GlobalCursor:
        """The cursor after the last event visible to a gap-safe reader now."""
        row = await conn.fetchrow(
            f"SELECT e.txid::text::bigint AS txid, e.position FROM {self._table} e"
            " WHERE e.txid < pg_snapshot_xmin(pg_current_snapshot())"
            " ORDER BY e.txid DESC, e.position DESC LIMIT 1"
        )
        return GlobalCursor() if row is None else GlobalCursor(row["txid"], row["position"])

    async def count(self, conn: asyncpg.Connection) -> int:
        total: int = await conn.fetchval(f"SELECT count(*) FROM {self._table}")
        return total


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


def cursor_of(event: StoredEvent | None, default: GlobalCursor | None = None) -> GlobalCursor:
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
