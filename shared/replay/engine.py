"""Rebuild projections into a fresh schema and compare them with the live ones: what `qyzmet
replay` does, callable from tests and benchmarks."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from shared.db.identifiers import checked_identifier
from shared.eventstore import apply_migrations
from shared.replay.selection import count_events, selected_streams
from shared.replay.spec import KafkaJob, Parallel, Progress, ProjectionSpec, ReplayJob, Selection
from shared.replay.verify import TableComparison, compare_table

EVERYTHING = Selection()


class ReplayRefused(ValueError):
    """The replay cannot run as asked (the target exists, is the live schema, no Kafka path...)."""


@dataclass(frozen=True)
class ReplayResult:
    projection: str
    target: str
    events: int
    seconds: float
    streams: Sequence[str] | None
    """The streams replayed (None: all)."""


def fresh_schema_name(service: str, into: str | None = None, stamp: datetime | None = None) -> str:
    """`--into NAME`, else `<service>_replay_<UTC yyyymmddHHMMSS>`."""
    if into:
        return checked_identifier(into)
    at = (stamp or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")
    return checked_identifier(f"{service}_replay_{at}")


async def prepare_target(conn: asyncpg.Connection, spec: ProjectionSpec, target: str) -> None:
    """Create `target` with the service's tables; refuse an existing schema or the live one."""
    if target == spec.schema():
        raise ReplayRefused(f"{target!r} is the live schema of {spec.service}; a replay never writes there")
    exists = await conn.fetchval("SELECT true FROM pg_namespace WHERE nspname = $1", target)
    if exists:
        raise ReplayRefused(f"schema {target!r} exists already; a replay writes only into a fresh schema")
    await apply_migrations(conn, target, *spec.migrations)


async def replay_from_store(
    pool: asyncpg.Pool,
    spec: ProjectionSpec,
    target: str,
    selection: Selection = EVERYTHING,
    progress: Progress | None = None,
    total: list[int] | None = None,
    parallel: Parallel | None = None,
) -> ReplayResult:
    """Rebuild `spec` from its live event store into the fresh schema `target`. `total`, if
    given, receives the number of events to replay before it starts (for a progress bar);
    `parallel`: split across processes where the projection can."""
    source = spec.schema()
    async with pool.acquire() as conn:
        await prepare_target(conn, spec, target)
        streams = await selected_streams(conn, source, selection, spec.stream_prefix)
        if total is not None:
            total.append(await count_events(conn, source, streams))
    started = time.monotonic()
    job = ReplayJob(source, target, streams, progress or (lambda _: None), parallel)
    events = await spec.replay(pool, job)
    return ReplayResult(spec.full_name, target, events, time.monotonic() - started, streams)


async def replay_from_kafka(
    pool: asyncpg.Pool,
    spec: ProjectionSpec,
    target: str,
    bootstrap_servers: str,
    topic_prefix: str = "",
    selection: Selection = EVERYTHING,
    progress: Progress | None = None,
) -> ReplayResult:
    """Rebuild `spec` from the topics (offset 0) into the fresh schema `target`."""
    if spec.from_kafka is None:
        raise ReplayRefused(f"{spec.full_name} cannot be rebuilt from Kafka: {spec.kafka_note}")
    async with pool.acquire() as conn:
        await prepare_target(conn, spec, target)
    picked: list[Sequence[str] | None] = []

    async def streams_of(conn: asyncpg.Connection, schema: str) -> Sequence[str] | None:
        found = await selected_streams(conn, schema, selection, spec.stream_prefix)
        picked.append(found)
        return found

    started = time.monotonic()
    job = KafkaJob(bootstrap_servers, target, topic_prefix, progress or (lambda _: None), streams_of)
    events = await spec.from_kafka(pool, job)
    streams = picked[0] if picked else None
    return ReplayResult(spec.full_name, target, events, time.monotonic() - started, streams)


async def verify(
    pool: asyncpg.Pool, spec: ProjectionSpec, result: ReplayResult, *, from_kafka: bool = False
) -> list[TableComparison]:
    """Compare every table of the rebuilt projection with the live one (the replayed streams only)."""
    out: list[TableComparison] = []
    async with pool.acquire() as conn:
        for table in spec.tables:
            ignore = table.not_from_kafka if from_kafka else ()
            out.append(
                await compare_table(
                    conn, spec.schema(), result.target, table, ignore=ignore, streams=result.streams
                )
            )
    return out
