"""`qyzmet serve intake-worker`: Kafka command intake, outbox relay and status projector.

Faust is the shell (one agent on `intake.submissions.v1`, two background tasks); the work is
done by plain objects (`EventConsumer`, `OutboxRelay`, `ApplicationProjector`) that tests drive
directly.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from services.intake.commands import submission_consumer
from shared.logging import configure_logging
from shared.messaging.consumer import EventConsumer
from shared.messaging.relay import OutboxRelay
from shared.messaging.topics import contract_topics, ensure_topics
from shared.runtime.context import ServiceContext, require_infrastructure, service_context
from shared.settings import PlatformSettings

log = structlog.get_logger(__name__)


@dataclass
class WorkerParts:
    deps: IntakeDeps
    consumer: EventConsumer
    relay: OutboxRelay


def worker_parts(ctx: ServiceContext) -> WorkerParts:
    deps = build(ctx.pool, ctx.schema)
    relay = OutboxRelay(
        ctx.pool, ctx.store, ctx.producer, application_route(ctx.topic(APPLICATIONS_TOPIC)), SOURCE
    )
    consumer = submission_consumer(ctx.pool, ctx.schema, deps.service, ctx.producer)
    return WorkerParts(deps, consumer, relay)


class _Lazy:
    """Opens the service context once, inside faust's event loop."""

    def __init__(self, settings: PlatformSettings) -> None:
        self.settings = settings
        self._stack = contextlib.AsyncExitStack()
        self._parts: WorkerParts | None = None
        self._lock = asyncio.Lock()
        self.stop = asyncio.Event()

    async def parts(self) -> WorkerParts:
        async with self._lock:
            if self._parts is None:
                ctx = await self._stack.enter_async_context(
                    service_context(SERVICE, schema_from_env(), MIGRATIONS, self.settings)
                )
                self._parts = worker_parts(ctx)
            return self._parts


def main() -> None:
    from shared.runtime.faust_worker import AgentSpec, attach_agent, attach_background, build_worker_app

    settings = PlatformSettings()
    configure_logging(settings.log_level)
    _, bootstrap = require_infrastructure(settings)
    ensure_topics(bootstrap, contract_topics(settings.topic_partitions, settings.topic_prefix))
    lazy = _Lazy(settings)
    app = build_worker_app(
        f"{settings.topic_prefix}qyzmet-intake-worker",
        bootstrap,
        f"{SERVICE}-worker-{settings.instance_ordinal}",
    )

    async def consumer() -> EventConsumer:
        return (await lazy.parts()).consumer

    async def relay() -> None:
        await (await lazy.parts()).relay.run(lazy.stop)

    async def projector() -> None:
        await (await lazy.parts()).deps.projector.run(lazy.stop)

    attach_agent(app, AgentSpec("intake_submissions", [settings.topic_prefix + SUBMISSIONS_TOPIC], consumer))
    attach_background(app, "intake_relay", relay)
    attach_background(app, "intake_projector", projector)

    import faust

    worker = faust.Worker(app, loglevel=settings.log_level.lower())
    worker.execute_from_commandline()
