"""`qyzmet serve decision-worker`: consumer of applications.v1 / inspections.v1, outbox relay and
timer scheduler.

Faust is the shell (one agent on both topics; relay and scheduler as background tasks), as the
architecture says; the work is done by plain objects (`EventConsumer`, `OutboxRelay`,
`DecisionService`) that tests drive directly. `DECISION_WORKER_RUNTIME=aiokafka` runs the same
parts on a plain aiokafka loop instead (`run_worker`: partitions of a batch processed
concurrently). `DECISION_SCHEDULER=0` turns the scheduler off here (run
`python -m services.decision.entrypoints.scheduler` instead; any number of copies is safe).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

from services.decision.bootstrap import (
    APPLICATIONS_TOPIC,
    INSPECTIONS_TOPIC,
    MIGRATIONS,
    SCHEMA,
    SERVICE,
    build_service,
    consumed_registry,
    make_consumer_handler,
    route,
    run_scheduler,
    run_worker,
)
from services.decision.service import DecisionService
from services.decision.settings import DecisionSettings
from shared.logging import configure_logging
from shared.messaging.consumer import EventConsumer
from shared.messaging.relay import OutboxRelay
from shared.messaging.topics import contract_topics, ensure_topics
from shared.runtime.context import ServiceContext, require_infrastructure, service_context
from shared.settings import PlatformSettings


def _scheduler_enabled() -> bool:
    return os.environ.get("DECISION_SCHEDULER", "1") != "0"


async def serve() -> None:
    """The plain aiokafka runtime (no faust)."""
    platform = PlatformSettings()
    _, bootstrap = require_infrastructure(platform)
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
            make_consumer_handler(self.service, source),
            ctx.producer,
        )
        self.relay = OutboxRelay(
            ctx.pool, ctx.store, ctx.producer, route(ctx.settings.topic_prefix), source=source
        )


class _Lazy:
    """Opens the service context once, inside faust's event loop."""

    def __init__(self, settings: PlatformSettings) -> None:
        self.settings = settings
        self._stack = contextlib.AsyncExitStack()
        self._parts: _Parts | None = None
        self._lock = asyncio.Lock()
        self.stop = asyncio.Event()

    async def parts(self) -> _Parts:
        async with self._lock:
            if self._parts is None:
                ctx = await self._stack.enter_async_context(
                    service_context(SERVICE, SCHEMA, MIGRATIONS, self.settings)
                )
                self._parts = _Parts(ctx)
            return self._parts


def main() -> None:
    settings = PlatformSettings()
    configure_logging(settings.log_level)
    if os.environ.get("DECISION_WORKER_RUNTIME", "faust") == "aiokafka":
        asyncio.run(serve())
        return
    from shared.runtime.faust_worker import AgentSpec, attach_agent, attach_background, build_worker_app

    _, bootstrap = require_infrastructure(settings)
    ensure_topics(bootstrap, contract_topics(settings.topic_partitions, settings.topic_prefix))
    lazy = _Lazy(settings)
    instance = f"{SERVICE}-worker-{settings.instance_ordinal}"
    app = build_worker_app(f"{settings.topic_prefix}qyzmet-decision-worker", bootstrap, instance)

    async def consumer() -> EventConsumer:
        return (await lazy.parts()).consumer

    async def relay() -> None:
        await (await lazy.parts()).relay.run(lazy.stop)

    async def scheduler() -> None:
        await run_scheduler((await lazy.parts()).service, lazy.stop, worker=instance)

    topics = [settings.topic_prefix + APPLICATIONS_TOPIC, settings.topic_prefix + INSPECTIONS_TOPIC]
    attach_agent(app, AgentSpec("decision_applications", topics, consumer))
    attach_background(app, "decision_relay", relay)
    if _scheduler_enabled():
        attach_background(app, "decision_scheduler", scheduler)

    import faust

    worker = faust.Worker(app, loglevel=settings.log_level.lower())
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
