"""`qyzmet serve intake-worker`: Kafka command intake, the case's steps from the decision
service, outbox relay and status projector.

Faust is the shell (an agent on `intake.submissions.v1`, one on `decisions.v1` and
`inspections.v1`, two background tasks); the work is done by plain objects (`EventConsumer`,
`OutboxRelay`, `ApplicationProjector`) that tests drive directly.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog

from services.intake.bootstrap import (
    APPLICATIONS_TOPIC,
    MIGRATIONS,
    SERVICE,
    SOURCE,
    SUBMISSIONS_TOPIC,
    IntakeDeps,
    application_route,
    build,
    schema_from_env,
)
from services.intake.entrypoints.kafka_case_progress import CONSUMED_TOPICS, case_progress_consumer
from services.intake.entrypoints.kafka_submissions import submission_consumer
from shared.logging import configure_logging
from shared.messaging.consumer import EventConsumer
from shared.messaging.relay import OutboxRelay
from shared.runtime.context import ServiceContext
from shared.runtime.faust_worker import ServiceWorker, run_faust_worker
from shared.settings import PlatformSettings

log = structlog.get_logger(__name__)


@dataclass
class WorkerParts:
    deps: IntakeDeps
    consumer: EventConsumer
    relay: OutboxRelay
    progress: EventConsumer
    """The case's steps, from the decision service's topics."""


def worker_parts(ctx: ServiceContext) -> WorkerParts:
    deps = build(ctx.pool, ctx.schema)
    relay = ctx.relay(application_route(ctx.topic(APPLICATIONS_TOPIC)), SOURCE)
    consumer = submission_consumer(
        ctx.pool, ctx.schema, deps.service, ctx.producer, applications_topic=ctx.topic(APPLICATIONS_TOPIC)
    )
    progress = case_progress_consumer(ctx.pool, ctx.schema, deps.service, ctx.producer)
    return WorkerParts(deps, consumer, relay, progress)


async def _relay(parts: WorkerParts, stop: asyncio.Event) -> None:
    await parts.relay.run(stop)


async def _projector(parts: WorkerParts, stop: asyncio.Event) -> None:
    await parts.deps.projector.run(stop)


def main() -> None:
    settings = PlatformSettings()
    configure_logging(settings.log_level)
    worker = ServiceWorker(
        service=SERVICE,
        schema=schema_from_env(),
        migrations=MIGRATIONS,
        build=worker_parts,
        agents=[
            ("intake_submissions", [SUBMISSIONS_TOPIC], lambda parts: parts.consumer),
            ("intake_case_progress", list(CONSUMED_TOPICS), lambda parts: parts.progress),
        ],
        backgrounds=[("intake_relay", _relay), ("intake_projector", _projector)],
    )
    run_faust_worker(worker, settings)
