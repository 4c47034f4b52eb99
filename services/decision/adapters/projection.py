"""The `cases` projection (worklists), written in the same transaction as the events."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cached_property

import asyncpg

from services.decision.domain.model import CaseState, replay
from shared.contracts.decisions import DECISION_EVENTS
from shared.contracts.event import DomainEvent, ce_type_of
from shared.db.identifiers import checked_identifier
from shared.db.pool import dumps

_VALUES = "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15::jsonb,$16, now()"
_ARRAY_TYPES = (
    "text", "text", "text", "text", "text", "text", "text", "text", "text",
    "timestamptz", "timestamptz", "timestamptz", "text", "boolean", "text", "integer",
)  # fmt: skip
"""The types of `_args`'s values, in its order (`upsert_many` sends one array of each)."""
_FLAGS = 14
"""The flags' place in `_args` (as JSON text in `upsert_many`)."""


class CaseProjection:
    def __init__(self, schema: str) -> None:
        self.schema = checked_identifier(schema)
        self.table = f"{self.schema}.cases"

    def session(self, conn: asyncpg.Connection) -> BoundCaseProjection:
        return BoundCaseProjection(self, conn)

    def _upsert_sql(self) -> str:
        return (
            f"INSERT INTO {self.table} (application_id, registration_number, service_id, edition_id, channel,"
            " office_id, region, status, executor, received_at, due_at, decided_at, outcome, breached, flags,"
            " version, updated_at)"
            f" VALUES ({_VALUES})"
            " ON CONFLICT (application_id) DO UPDATE SET status = excluded.status,"
            " executor = excluded.executor, due_at = excluded.due_at, decided_at = excluded.decided_at,"
            " outcome = excluded.outcome, breached = excluded.breached, flags = excluded.flags,"
            f" version = excluded.version, updated_at = now() WHERE {self.table}.version < excluded.version"
        )

    @staticmethod
    def _args(state: CaseState) -> tuple[object, ...] | None:
        opened = state.opened
        if opened is None:
            return None
        decision = state.decision
        flags = [{"reason": f.reason, "parameter": f.parameter, "message": f.message} for f in state.flags]
        return (
            state.application_id,
            opened.registration_number,
            opened.service_id,
            opened.edition_id,
            opened.channel,
            opened.office_id,
            opened.region,
            state.status.value,
            state.executor,
            opened.received_at,
            state.due_at,
            decision.decided_at if decision is not None else None,
            decision.outcome if decision is not None else None,
            state.breached,
            flags,
            state.version,
        )

    async def upsert(self, conn: asyncpg.Connection, state: CaseState) -> None:
        args = self._args(state)
        if args is not None:
            await conn.execute(self._upsert_sql(), *args)

    async def upsert_many(self, conn: asyncpg.Connection, states: Sequence[CaseState]) -> None:
        """`upsert` of many distinct cases in one statement (a batch of openings, a replay): one
        array per column, not a row per execution."""
        rows = [args for state in states if (args := self._args(state)) is not None]
        if rows:
            columns = [list(column) for column in zip(*rows, strict=True)]
            columns[_FLAGS] = [dumps(flags) for flags in columns[_FLAGS]]  # JSON text: no nested lists
            await conn.execute(self._upsert_many_sql, *columns)

    @cached_property
    def _upsert_many_sql(self) -> str:
        arrays = ", ".join(f"${i}::{kind}[]" for i, kind in enumerate(_ARRAY_TYPES, start=1))
        names = [f"c{i}" for i in range(1, len(_ARRAY_TYPES) + 1)]
        values = ", ".join(f"u.{name}::jsonb" if i == _FLAGS else f"u.{name}" for i, name in enumerate(names))
        return self._upsert_sql().replace(
            f" VALUES ({_VALUES})",
            f" SELECT {values}, now() FROM unnest({arrays}) AS u({', '.join(names)})",
        )

    async def overdue(self, conn: asyncpg.Connection, office: str, now: datetime) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await conn.fetch(
            f"SELECT application_id, registration_number, service_id, status, executor, received_at, due_at,"
            f" breached, flags FROM {self.table}"
            " WHERE office_id = $1 AND decided_at IS NULL AND due_at IS NOT NULL AND due_at < $2"
            " AND status IN ('registered','under_review','awaiting_inspection','awaiting_signature')"
            " ORDER BY due_at",
            office,
            now,
        )
        return rows


class BoundCaseProjection:
    """The `cases` projection on one unit of work's connection."""

    def __init__(self, projection: CaseProjection, conn: asyncpg.Connection) -> None:
        self.projection = projection
        self.conn = conn

    async def upsert(self, state: CaseState) -> None:
        await self.projection.upsert(self.conn, state)


async def rebuild_cases(conn: asyncpg.Connection, schema: str) -> int:
    """Rebuild the `cases` projection from the event store (replay every case stream). DELETE, not
    TRUNCATE: the service's login role has no TRUNCATE right (`shared.db.grants`)."""
    schema = checked_identifier(schema)
    projection = CaseProjection(schema)
    async with conn.transaction():
        await conn.execute(f"DELETE FROM {schema}.cases")
        streams = await conn.fetch(
            f"SELECT DISTINCT stream_id FROM {schema}.events WHERE stream_id LIKE 'case-%'"
        )
        for row in streams:
            events = await conn.fetch(
                f"SELECT event_type, schema_version, data FROM {schema}.events"
                " WHERE stream_id = $1 ORDER BY version",
                row["stream_id"],
            )
            decoded = [
                DECISION_EVENTS.decode(ce_type_of(e["event_type"], e["schema_version"]), e["data"])
                for e in events
            ]
            await projection.upsert(conn, replay(row["stream_id"].removeprefix("case-"), decoded))
    return len(streams)


async def replay_cases(
    pool: asyncpg.Pool,
    source: str,
    target: str,
    streams: Sequence[str] | None = None,
    progress: Callable[[int], None] | None = None,
    batch: int = 500,
) -> int:
    """Rebuild the `cases` rows of `source`'s case streams into `target` (a fresh schema): the
    events stream in (stream, version) order through a server-side cursor, each case is folded by
    the domain's `replay` and written with the live projection's upsert, `batch` cases at a time.
    Returns the events replayed."""
    source = checked_identifier(source)
    projection = CaseProjection(target)
    where = "starts_with(stream_id, 'case-')" + (
        " AND stream_id = ANY($1::text[])" if streams is not None else ""
    )
    args = [list(streams)] if streams is not None else []
    total = 0
    states: list[CaseState] = []
    current: str | None = None
    events: list[DomainEvent] = []
    async with pool.acquire() as reader, pool.acquire() as writer, reader.transaction():
        query = (
            f"SELECT stream_id, event_type, schema_version, data FROM {source}.events WHERE {where}"
            " ORDER BY stream_id, version"
        )
        async for row in reader.cursor(query, *args, prefetch=2000):
            if row["stream_id"] != current:
                if current is not None:
                    states.append(replay(current.removeprefix("case-"), events))
                current, events = row["stream_id"], []
            events.append(
                DECISION_EVENTS.decode(ce_type_of(row["event_type"], row["schema_version"]), row["data"])
            )
            total += 1
            if len(states) >= batch:
                await projection.upsert_many(writer, states)
                if progress is not None:
                    progress(sum(s.version for s in states))
                states = []
        if current is not None:
            states.append(replay(current.removeprefix("case-"), events))
        await projection.upsert_many(writer, states)
        if progress is not None:
            progress(sum(s.version for s in states))
    return total
