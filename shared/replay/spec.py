"""What a service tells the platform about one of its projections, so `qyzmet replay` can rebuild
it into a fresh schema and compare it with the live one.

The service keeps the projector: `replay` runs the same code that keeps the live projection,
reading events from the live schema and writing rows into the target schema. The platform only
prepares the target (the service's migrations), picks the streams, shows progress and compares.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

AsOf = Callable[[asyncpg.Pool, str, str, datetime], Awaitable[dict[str, Any] | None]]
"""(pool, live schema, entity id, moment) -> the entity's row and history then, None if none yet."""

Progress = Callable[[int], None]
"""Called with how many more events were replayed."""


def _no_progress(_: int) -> None:
    return None


@dataclass(frozen=True)
class Finding:
    """One recorded fact an audit re-checked that would now come out differently."""

    subject: str
    """What it is about (e.g. `application <id>, event <id>`)."""
    at: datetime
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class AuditResult:
    checked: int
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class TableSpec:
    """One table of a projection and how to compare it."""

    name: str
    key: tuple[str, ...]
    """Its primary key: rows are compared key by key."""
    stream: str
    """SQL expression of a row's event stream id (restricts a comparison to the replayed streams)."""
    volatile: tuple[str, ...] = ()
    """Columns set from the clock when written (`now()`): never compared."""
    not_from_kafka: tuple[str, ...] = ()
    """The service's own bookkeeping no topic carries (stream versions, its recording times): not
    compared after a replay from Kafka."""


@dataclass(frozen=True)
class Selection:
    """Which streams to replay: those whose first event names this office and catalog service and
    was recorded in [since, until). None: no restriction."""

    office: str | None = None
    service: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    @property
    def everything(self) -> bool:
        return self == Selection()


@dataclass(frozen=True)
class Parallel:
    """How a replay may split: into `workers` processes that connect to `database_url`, if it
    has at least `min_events` events (below, starting processes costs more than it saves)."""

    database_url: str = field(repr=False)
    workers: int
    min_events: int = 200_000

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, not {self.workers}")


@dataclass(frozen=True)
class ReplayJob:
    source: str
    """The live schema whose event store is read."""
    target: str
    """The fresh schema the rows are written into."""
    streams: Sequence[str] | None = None
    """Only these streams (None: all)."""
    progress: Progress = _no_progress
    parallel: Parallel | None = None
    """Split across processes (`shared.replay.partitions`) if the projection can; None: one."""


@dataclass(frozen=True)
class KafkaJob:
    bootstrap_servers: str
    target: str
    """The fresh schema: its event store is filled from the topics, then projected."""
    topic_prefix: str = ""
    progress: Progress = _no_progress
    streams_of: Callable[[asyncpg.Connection, str], Awaitable[Sequence[str] | None]] | None = None
    """Picks the streams to project once the target's store is filled (the selection)."""


@dataclass(frozen=True)
class ProjectionSpec:
    service: str
    name: str
    schema: Callable[[], str]
    """The live schema (from the environment)."""
    stream_prefix: str
    """The id prefix of the streams it is built from (`application-`): what a selection picks."""
    migrations: tuple[str, ...]
    """Migration packages that create the projection's tables (applied to the fresh schema)."""
    tables: tuple[TableSpec, ...]
    replay: Callable[[asyncpg.Pool, ReplayJob], Awaitable[int]]
    """Rebuild from `job.source`'s event store into `job.target`; return the events replayed."""
    from_kafka: Callable[[asyncpg.Pool, KafkaJob], Awaitable[int]] | None = None
    """Rebuild from the topics (offset 0); None when the topics do not carry what it needs."""
    kafka_note: str = ""
    """Why there is no `from_kafka` (shown by the command)."""
    topics: tuple[str, ...] = field(default=())
    """The topics a Kafka replay reads (without prefix)."""
    audit: Callable[[asyncpg.Pool, Selection], Awaitable[AuditResult]] | None = None
    """Re-check the recorded decisions (`qyzmet replay decisions --verify`)."""
    as_of: AsOf | None = None
    """One entity of the projection as it stood at a past moment (`qyzmet status --as-of`)."""

    @property
    def full_name(self) -> str:
        return f"{self.service}.{self.name}"
