"""Projections of the intake service that `qyzmet replay intake` rebuilds: the status view
(`applications` and its `application_history`), from intake's event store or from the topics."""

from __future__ import annotations

import asyncio

import asyncpg

from services.intake.adapters.as_of import status_as_of
from services.intake.adapters.status_replay import StatusReplay
from services.intake.bootstrap import MIGRATIONS, schema_from_env
from shared.replay.partitions import PartitionJob, partition_pool
from shared.replay.spec import KafkaJob, Progress, ProjectionSpec, ReplayJob, TableSpec

REPLAY_PAGE = 5000
"""Events per gap-safe page read."""
REPLAY_CACHE_ROWS = 20_000
"""Rows a replay keeps in memory (written when they leave, or at the end)."""
_STREAM = "'application-' || application_id::text"


async def replay_applications(pool: asyncpg.Pool, job: ReplayJob) -> int:
    """The live projector's fold (`status_rows`), reading `job.source`'s events into `job.target`'s
    rows: in processes of their own, one per partition of the applications, if `job.parallel` says so."""
    replay = _status_replay(job.source, job.target)
    if job.parallel is None:
        return await replay.run(pool, job.streams, job.progress)
    return await replay.run_split(pool, job.streams, job.progress, job.parallel, _replay_partition)


def _status_replay(source: str, target: str) -> StatusReplay:
    return StatusReplay(source, target, page=REPLAY_PAGE, cache_rows=REPLAY_CACHE_ROWS)


def _replay_partition(job: PartitionJob, progress: Progress) -> int:
    """One partition of `replay_applications`, in a process of its own (`run_in_processes`)."""

    async def run() -> int:
        async with partition_pool(job) as pool:
            return await _status_replay(job.source, job.target).run_partition(pool, job, progress)

    return asyncio.run(run())


async def _from_kafka(pool: asyncpg.Pool, job: KafkaJob) -> int:
    from services.intake.entrypoints.kafka_replay import replay_from_topics

    return await replay_from_topics(pool, job, replay_applications)


APPLICATIONS = ProjectionSpec(
    service="intake",
    name="applications",
    schema=schema_from_env,
    stream_prefix="application-",
    migrations=MIGRATIONS,
    tables=(
        TableSpec(
            "applications", ("application_id",), _STREAM, not_from_kafka=("updated_at", "last_version")
        ),
        TableSpec(
            "application_history",
            ("application_id", "version"),
            _STREAM,
            not_from_kafka=("version", "status"),
        ),
    ),
    replay=replay_applications,
    from_kafka=_from_kafka,
    as_of=status_as_of,
)

PROJECTIONS: dict[str, ProjectionSpec] = {"applications": APPLICATIONS}
