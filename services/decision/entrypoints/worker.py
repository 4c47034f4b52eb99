"""`qyzmet serve decision-worker`: consumer of applications.v1 / inspections.v1 / complaints.v1,
outbox relay and timer scheduler.

Faust is the shell (one agent on both topics; relay and scheduler as background tasks), as the
architecture says; the work is done by plain objects (`EventConsumer`, `OutboxRelay`,
`DecisionService`) that tests drive directly. `DECISION_WORKER_RUNTIME=aiokafka` runs the same
parts on a plain aiokafka loop instead (`run_worker`: partitions of a batch processed
concurrently). `DECISION_SCHEDULER=0` turns the scheduler off here (run
`python -m services.decision.entrypoints.scheduler` instead; any number of copies is safe).
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
from collections.abc import Awaitable, Callable

from services.decision.bootstrap import (
    CONSUMED_TOPICS,
    MIGRATIONS,
    SCHEMA,
    SERVICE,
    YOUNG_COLLECTION_EVERY,
    build_service,
    consumed_registry,
    route,
    run_scheduler,
    run_worker,
)
from services.decision.entrypoints.kafka_handlers import consumer_handler
from services.decision.service import DecisionService
from services.decision.settings import DecisionSettings
from shared.logging import configure_logging
from shared.messaging.consumer import EventConsumer
from shared.messaging.topics import contract_topics, ensure_topics
from shared.runtime.context import ServiceContext, require_infrastructure, service_context
from shared.runtime.faust_worker import ServiceWorker, run_faust_worker
from shared.runtime.heap import freeze_startup_heap
from shared.settings import PlatformSettings


def _scheduler_enabled() -> bool:
    return os.environ.get("DECISION_SCHEDULER", "1") != "0"


async def serve() -> None:
    """The plain aiokafka runtime (no faust)."""
    platform = PlatformSettings()
    _, bootstrap = require_infrastructure(platform, SERVICE)
    ensure_topics(bootstrap, contract_topics(platform.topic_partitions, platform.topic_prefix))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with service_context(SERVICE, SCHEMA, MIGRATIONS, platform) as ctx:
        service = build_service(ctx.pool, ctx.schema, DecisionSettings())
        await run_worker(
            service,
            ctx.producer,
            bootstrap,
            stop,
            prefix=platform.topic_prefix,
            instance_id=f"decision-worker-{platform.instance_ordinal}",
            scheduler=_scheduler_enabled(),
            idempotent=platform.kafka_idempotent_producer,
        )


class _Parts:
    def __init__(self, ctx: ServiceContext) -> None:
        self.service: DecisionService = build_service(ctx.pool, ctx.schema, DecisionSettings())
        source = self.service.settings.source
        self.consumer = EventConsumer(
            "decision-applications",
            ctx.pool,
            ctx.schema,
            consumed_registry(),
            consumer_handler(self.service, source),
            ctx.producer,
            batch=self.service.open_cases,
        )
        self.relay = ctx.relay(route(ctx.settings.topic_prefix), source)
        freeze_startup_heap()  # the catalog is loaded: out of the collector's way
        gc.set_threshold(YOUNG_COLLECTION_EVERY, *gc.get_threshold()[1:])  # the worker's process


async def _relay(parts: _Parts, stop: asyncio.Event) -> None:
    await parts.relay.run(stop)


def main() -> None:
    settings = PlatformSettings()
    configure_logging(settings.log_level)
    if os.environ.get("DECISION_WORKER_RUNTIME", "faust") == "aiokafka":
        asyncio.run(serve())
        return
    instance = f"{SERVICE}-worker-{settings.instance_ordinal}"

    async def scheduler(parts: _Parts, stop: asyncio.Event) -> None:
        await run_scheduler(parts.service, stop, worker=instance)

    backgrounds: list[tuple[str, Callable[[_Parts, asyncio.Event], Awaitable[None]]]] = [
        ("decision_relay", _relay)
    ]
    if _scheduler_enabled():
        backgrounds.append(("decision_scheduler", scheduler))
    worker = ServiceWorker(
        service=SERVICE,
        schema=SCHEMA,
        migrations=MIGRATIONS,
        build=_Parts,
        agents=[("decision_applications", CONSUMED_TOPICS, lambda parts: parts.consumer)],
        backgrounds=backgrounds,
    )
    run_faust_worker(worker, settings)


if __name__ == "__main__":
    main()
