"""Projections of the decision service that `qyzmet replay decision` rebuilds: the `cases`
worklist rows, from the decision service's event store."""

from __future__ import annotations

import asyncpg

from services.decision.adapters.decision_audit import audit_decisions
from services.decision.adapters.projection import replay_cases
from services.decision.bootstrap import MIGRATIONS, SCHEMA
from shared.replay.spec import AuditResult, ProjectionSpec, ReplayJob, Selection, TableSpec


def _schema() -> str:
    return SCHEMA


async def _audit(pool: asyncpg.Pool, selection: Selection) -> AuditResult:
    return await audit_decisions(pool, _schema(), selection)


async def _replay(pool: asyncpg.Pool, job: ReplayJob) -> int:
    return await replay_cases(pool, job.source, job.target, job.streams, job.progress)


CASES = ProjectionSpec(
    service="decision",
    name="cases",
    schema=_schema,
    stream_prefix="case-",
    migrations=MIGRATIONS,
    tables=(TableSpec("cases", ("application_id",), "'case-' || application_id", volatile=("updated_at",)),),
    replay=_replay,
    audit=_audit,
    kafka_note=(
        "a case's opening (the household as declared), document check and drafts are internal to the"
        " decision service and never published; rebuild it from the event store"
    ),
)

PROJECTIONS: dict[str, ProjectionSpec] = {"cases": CASES}
