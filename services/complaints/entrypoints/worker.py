"""`qyzmet serve complaints-worker`: Kafka complaint commands, the applications read model, the
outbox relay to `complaints.v1` and the review timer scheduler (`COMPLAINTS_SCHEDULER=false`
turns it off here; leases make any number of schedulers safe).

Faust is the shell; the work is done by plain objects (`EventConsumer`, `OutboxRelay`,
`TimerScheduler`) that tests drive directly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from services.complaints.bootstrap import (
    FACT_TOPICS,
    MIGRATIONS,
    SERVICE,
    SOURCE,
    SUBMISSIONS_TOPIC,
    build,
    route,
    schema_from_env,
)
from services.complaints.entrypoints.kafka import facts_consumer, submission_consumer
from services.complaints.service import ComplaintsService
from services.complaints.settings import ComplaintsSettings
from shared.logging import configure_logging
from shared.messaging.consumer import EventConsumer
from shared.messaging.relay import OutboxRelay
from shared.runtime.context import ServiceContext
from shared.runtime.faust_worker import ServiceWorker, run_faust_worker
from shared.settings import PlatformSettings


@dataclass
class WorkerParts:
    service: ComplaintsService
    submissions: EventConsumer
    facts: EventConsumer
    relay: OutboxRelay


def worker_parts(ctx: ServiceContext) -> WorkerParts:
    service = build(ctx.pool, ctx.schema)
    return WorkerParts(
        service=service,
        submissions=submission_consumer(ctx.pool, ctx.schema, service, ctx.producer),
        facts=facts_consumer(ctx.pool, ctx.schema, ctx.producer),
        relay=ctx.relay(route(ctx.settings.topic_prefix), SOURCE),
    )


async def _relay(parts: WorkerParts, stop: asyncio.Event) -> None:
    await parts.relay.run(stop)


def main() -> None:
    settings = PlatformSettings()
    configure_logging(settings.log_level)
    instance = f"{SERVICE}-worker-{settings.instance_ordinal}"

    async def scheduler(parts: WorkerParts, stop: asyncio.Event) -> None:
        await parts.service.scheduler.run(stop, worker=instance)

    backgrounds: list[tuple[str, Callable[[WorkerParts, asyncio.Event], Awaitable[None]]]] = [
        ("complaints_relay", _relay)
    ]
    if ComplaintsSettings().scheduler:
        backgrounds.append(("complaints_scheduler", scheduler))
    worker = ServiceWorker(
        service=SERVICE,
        schema=schema_from_env(),
        migrations=MIGRATIONS,
        build=worker_parts,
        agents=[
            ("complaints_submissions", [SUBMISSIONS_TOPIC], lambda parts: parts.submissions),
            ("complaints_application_facts", list(FACT_TOPICS), lambda parts: parts.facts),
        ],
        backgrounds=backgrounds,
    )
    run_faust_worker(worker, settings)


if __name__ == "__main__":
    main()
