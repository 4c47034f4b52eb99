"""The application status projection: built by a projector tailing the event store.

Intake's event store holds the whole life the view shows: intake's own events and the case's
steps learnt from the decision service (`CaseProgressRecorded`), so a rebuild needs nothing else.

The projector reads events with the gap-safe reader (`EventStore.read_committed`) and keeps its
checkpoint in `projection_checkpoints`, in the same transaction as the rows it writes, so a
crash never skips or doubles an event. Several projectors (the worker and an API process) may
run: the checkpoint row lock serialises them. `rebuild_projection` replays the whole store.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

import asyncpg
import structlog

from services.intake.adapters import status_rows
from services.intake.adapters.status_rows import COLUMNS, HISTORY_COLUMNS, HistoryEntry, Row
from shared.contracts.application_progress import STATUS_VIEW_PROJECTION
from shared.db.identifiers import checked_identifier
from shared.eventstore import EventStore, GlobalCursor, StoredEvent
from shared.runtime.pacing import IdlePacing

log = structlog.get_logger(__name__)

PROJECTION = STATUS_VIEW_PROJECTION
"""Its row in `projection_checkpoints`, by the name the audit export reads it under."""


def upsert_sql(schema: str) -> str:
    """Insert or update status rows (`$1`: the rows as one JSON array, which PostgreSQL reads
    into the table's row type: one encoding pass in Python, no per-value array encoding)."""
    columns = ", ".join(COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c != "application_id")
    return (
        f"INSERT INTO {schema}.applications ({columns}) SELECT {columns}"
        f" FROM json_populate_recordset(NULL::{schema}.applications, $1::json)"
        f" ON CONFLICT (application_id) DO UPDATE SET {updates}"
    )


def rows_sql(schema: str) -> str:
    """The status rows of the applications `$1` (uuid[])."""
    return f"SELECT {', '.join(COLUMNS)} FROM {schema}.applications WHERE application_id = ANY($1::uuid[])"


class ApplicationProjector:
    """Projects intake's events from `schema` into its status rows. Each batch: read events
    (gap-safe), load the rows they touch, fold them in memory (`status_rows`), write the changed
    rows and the history in two set-based statements, move the checkpoint, all in one transaction.

    Rows are kept between batches (at most `cache_rows`) while this projector is the only one
    that moved the checkpoint: if the checkpoint is not where this projector left it, another
    projector (or a rebuild) ran, and the rows are read again.
    A replay into a fresh schema uses the same fold in bulk (`status_replay.StatusReplay`)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        schema: str,
        batch_size: int = 500,
        *,
        cache_rows: int = 50_000,
    ) -> None:
        self.pool = pool
        self.schema = checked_identifier(schema)
        self.store = EventStore(schema)
        self.batch_size = batch_size
        self.cache_rows = cache_rows
        self.lag_events = 0
        self.failures = 0
        self._cache: OrderedDict[str, Row | None] = OrderedDict()
        self._cache_at: GlobalCursor | None = None
        self._upsert_sql = upsert_sql(self.schema)
        history = ", ".join(HISTORY_COLUMNS)
        self._history_sql = (
            f"INSERT INTO {self.schema}.application_history ({history}) SELECT {history}"
            f" FROM json_populate_recordset(NULL::{self.schema}.application_history, $1::json)"
            " ON CONFLICT DO NOTHING"
        )

    async def _checkpoint(self, conn: asyncpg.Connection) -> GlobalCursor:
        await conn.execute(
            f"INSERT INTO {self.schema}.projection_checkpoints (projection, txid, position)"
            " VALUES ($1, '0'::xid8, 0) ON CONFLICT DO NOTHING",
            PROJECTION,
        )
        row = await conn.fetchrow(
            f"SELECT txid::text::bigint AS txid, position FROM {self.schema}.projection_checkpoints"
            " WHERE projection = $1 FOR UPDATE",
            PROJECTION,
        )
        assert row is not None
        return GlobalCursor(row["txid"], row["position"])

    async def run_once(self) -> int:
        """Project one batch; return how many events were read (0 when caught up)."""
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                return await self._batch(conn)
        except BaseException:
            self._cache_at = None  # the cached rows may hold what was rolled back
            raise

    async def _batch(self, conn: asyncpg.Connection) -> int:
        cursor = await self._checkpoint(conn)
        if cursor != self._cache_at:
            self._cache.clear()
        self._cache_at = None  # until this batch commits
        events = await self.store.read_committed(conn, cursor, self.batch_size)
        if not events:
            self._cache_at = cursor
            return 0
        rows = await self._rows_of(conn, events)
        history: list[HistoryEntry] = []
        for event in events:
            entry = status_rows.apply(rows, event)
            if entry is not None:
                history.append(entry)
        changed = [row for row in rows.values() if row is not None]
        last = events[-1]
        self._remember(rows, GlobalCursor(last.txid, last.position))
        await self._write(conn, changed, history)
        await conn.execute(
            f"UPDATE {self.schema}.projection_checkpoints SET txid = $2::text::xid8, position = $3,"
            " updated_at = now() WHERE projection = $1",
            PROJECTION,
            str(last.txid),
            last.position,
        )
        return len(events)

    async def _rows_of(self, conn: asyncpg.Connection, events: list[StoredEvent]) -> dict[str, Row | None]:
        """The rows the events touch (None: no row), from the cache or the table."""
        wanted = {app for event in events if (app := status_rows.application_of(event)) is not None}
        rows = {app: self._cache[app] for app in wanted if app in self._cache}
        missing = [app for app in wanted if app not in rows]
        if missing:
            found = await conn.fetch(rows_sql(self.schema), missing)
            rows.update({app: None for app in missing})
            rows.update({str(row["application_id"]): dict(row) for row in found})
        return rows

    async def _write(self, conn: asyncpg.Connection, rows: list[Row], history: list[HistoryEntry]) -> None:
        if rows:
            await conn.execute(self._upsert_sql, rows)
        if history:
            await conn.execute(
                self._history_sql, [dict(zip(HISTORY_COLUMNS, h, strict=True)) for h in history]
            )

    def _remember(self, rows: dict[str, Row | None], at: GlobalCursor) -> None:
        """Keep the rows for the next batch (committed with the checkpoint `at` by the caller:
        `run_once` forgets them if the commit fails)."""
        for app, row in rows.items():
            self._cache[app] = row
            self._cache.move_to_end(app)
        while len(self._cache) > self.cache_rows:
            self._cache.popitem(last=False)
        self._cache_at = at

    async def lag(self) -> int:
        """Events stored after the checkpoint (not yet projected)."""
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT txid::text AS txid, position FROM {self.schema}.projection_checkpoints"
                " WHERE projection = $1",
                PROJECTION,
            )
            txid, position = ("0", 0) if row is None else (row["txid"], row["position"])
            lag: int = await conn.fetchval(
                f"SELECT count(*) FROM {self.schema}.events WHERE (txid, position) > ($1::text::xid8, $2)",
                txid,
                position,
            )
        self.lag_events = lag
        return lag

    async def run(self, stop: asyncio.Event, idle_sleep: float = 0.05, max_backoff: float = 30.0) -> None:
        """Project until `stop` is set. No error ends the loop: a transient one is retried at once,
        any other (a bug, an event the projection cannot apply) with growing back-off, logged and
        counted in `failures` so the lag metric and the logs show a stuck projection. Idle for a
        while, it looks only every 0.5 s (`IdlePacing`)."""
        backoff = 1.0
        pacing = IdlePacing(busy_sleep=idle_sleep)
        while not stop.is_set():
            try:
                read = await self.run_once()
            except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError) as exc:
                log.warning("projector: database unavailable, retrying", error=type(exc).__name__)
                read, idle = 0, 1.0
            except Exception as exc:
                self.failures += 1
                log.error("projector: batch failed, retrying", error=type(exc).__name__, backoff_s=backoff)
                read, idle = 0, backoff
                backoff = min(backoff * 2, max_backoff)
            else:
                idle, backoff = pacing.pause_after(read > 0), 1.0
            if read == 0:
                try:
                    await asyncio.wait_for(stop.wait(), idle)
                except TimeoutError:
                    pass


async def rebuild_projection(pool: asyncpg.Pool, schema: str = "intake", batch_size: int = 1000) -> int:
    """Drop the projection rows and replay every stored event; return how many were replayed.

    Runs in one transaction: readers see the old rows until the new ones commit, and a running
    projector waits on the checkpoint lock, then carries on from the rebuilt checkpoint.
    """
    schema = checked_identifier(schema)
    projector = ApplicationProjector(pool, schema, batch_size)
    total = 0
    async with pool.acquire() as conn, conn.transaction():
        await projector._checkpoint(conn)
        await conn.execute(f"DELETE FROM {schema}.application_history")
        await conn.execute(f"DELETE FROM {schema}.applications")
        await conn.execute(
            f"UPDATE {schema}.projection_checkpoints SET txid = '0'::xid8, position = 0, updated_at = now()"
            " WHERE projection = $1",
            PROJECTION,
        )
        while True:
            read = await projector._batch(conn)
            total += read
            if read == 0:
                break
    return total
