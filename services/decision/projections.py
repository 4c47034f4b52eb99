"""Projections of the decision service that `qyzmet replay decision` rebuilds: the `cases`
worklist rows, from the decision service's event store or from the topics (the case's published
events, its opening rebuilt from the application's submission: `entrypoints/kafka_replay.py`)."""

from __future__ import annotations

import asyncpg

from services.decision.adapters.catalog import DecisionCatalog
from services.decision.adapters.decision_audit import audit_decisions
from services.decision.adapters.projection import replay_cases
from services.decision.bootstrap import MIGRATIONS, SCHEMA
from services.decision.entrypoints.kafka_replay import TOPICS, replay_from_topics
from services.decision.settings import DecisionSettings
from shared.replay.spec import AuditResult, KafkaJob, ProjectionSpec, ReplayJob, Selection, TableSpec


def _schema() -> str:
    return SCHEMA


async def _audit(pool: asyncpg.Pool, selection: Selection) -> AuditResult:
    return await audit_decisions(pool, _schema(), selection)


async def _replay(pool: asyncpg.Pool, job: ReplayJob) -> int:
    return await replay_cases(pool, job.source, job.target, job.streams, job.progress)


async def _from_kafka(pool: asyncpg.Pool, job: KafkaJob) -> int:
    settings = DecisionSettings()
    catalog = DecisionCatalog.load(include_examples=settings.use_example_parameters)
    return await replay_from_topics(pool, job, _replay, catalog, settings.source)


CASES = ProjectionSpec(
    service="decision",
    name="cases",
    schema=_schema,
    stream_prefix="case-",
    migrations=MIGRATIONS,
    tables=(
        TableSpec(
            "cases",
            ("application_id",),
            "'case-' || application_id",
            volatile=("updated_at",),
            not_from_kafka=("version",),
        ),
    ),
    replay=_replay,
    from_kafka=_from_kafka,
    topics=TOPICS,
    audit=_audit,
)

PROJECTIONS: dict[str, ProjectionSpec] = {"cases": CASES}
