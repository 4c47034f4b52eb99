"""Projections of the complaints service that `qyzmet replay complaints` rebuilds: one row per
complaint, from the complaints service's event store or from `complaints.v1`."""

from __future__ import annotations

import asyncpg

from services.complaints.adapters.projection import replay_complaints
from services.complaints.bootstrap import COMPLAINTS_TOPIC, MIGRATIONS, schema_from_env
from shared.contracts.complaints import COMPLAINT_EVENTS
from shared.replay.kafka import refilled_store_job, topics_into_store
from shared.replay.spec import KafkaJob, ProjectionSpec, ReplayJob, TableSpec


async def _replay(pool: asyncpg.Pool, job: ReplayJob) -> int:
    return await replay_complaints(pool, job.source, job.target, job.streams, job.progress)


async def _from_kafka(pool: asyncpg.Pool, job: KafkaJob) -> int:
    """Every complaint event is on `complaints.v1`: the topic fills the fresh schema's store (one
    stream per complaint, in the topic's order), which the same code then projects."""
    await topics_into_store(pool, job, (COMPLAINTS_TOPIC,), COMPLAINT_EVENTS)
    return await _replay(pool, await refilled_store_job(pool, job))


COMPLAINTS = ProjectionSpec(
    service="complaints",
    name="complaints",
    schema=schema_from_env,
    stream_prefix="complaint-",
    migrations=MIGRATIONS,
    tables=(
        TableSpec("complaints", ("complaint_id",), "'complaint-' || complaint_id", volatile=("updated_at",)),
    ),
    replay=_replay,
    from_kafka=_from_kafka,
    topics=(COMPLAINTS_TOPIC,),
)

PROJECTIONS: dict[str, ProjectionSpec] = {"complaints": COMPLAINTS}
