"""Projections of the intake service that `qyzmet replay intake` rebuilds: the status view
(`applications` and its `application_history`), from intake's event store or from the topics."""

from __future__ import annotations

import asyncpg

from services.intake.adapters.as_of import status_as_of
from services.intake.adapters.status_replay import StatusReplay, replay_partition
from services.intake.bootstrap import MIGRATIONS, schema_from_env
from shared.replay.spec import KafkaJob, ProjectionSpec, ReplayJob, TableSpec

_STREAM = "'application-' || application_id::text"


async def replay_applications(pool: asyncpg.Pool, job: ReplayJob) -> int:
    """The live projector's fold (`status_rows`), reading `job.source`'s events into `job.target`'s
    rows: in processes of their own, one per partition of the applications, if `job.parallel` says so."""
    replay = StatusReplay(job.source, job.target)
    if job.parallel is None:
        return await replay.run(pool, job.streams, job.progress)
    return await replay.run_split(pool, job.streams, job.progress, job.parallel, replay_partition)


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
