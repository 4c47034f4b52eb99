"""`qyzmet serve notification-worker`: consumers of applications.v1 / inspections.v1 /
decisions.v1 / complaints.v1 (applicant notifications) and of decisions.v1 (ЦОН webhooks), the
outbox relay to notifications.v1, and the delivery loop (e-mail, SMS, post, pickup, webhooks,
uncollected results).

Faust is the shell, as in the other services; `NOTIFICATION_WORKER_RUNTIME=aiokafka` runs the same
parts on a plain aiokafka loop (`bootstrap.run_worker`).
"""

from __future__ import annotations

import asyncio
import os
import signal

from services.notification.bootstrap import (
    APPLICANT_TOPICS,
    MIGRATIONS,
    SERVICE,
    WEBHOOK_TOPICS,
    build_service,
    consumers,
    route,
    run_worker,
)
from services.notification.service import NotificationService
from services.notification.settings import NotificationSettings
from shared.logging import configure_logging
from shared.messaging.topics import contract_topics, ensure_topics
from shared.runtime.context import ServiceContext, require_infrastructure, service_context
from shared.runtime.faust_worker import ServiceWorker, run_faust_worker
from shared.settings import PlatformSettings


async def serve() -> None:
    platform = PlatformSettings()
    _, bootstrap = require_infrastructure(platform, SERVICE)
    ensure_topics(bootstrap, contract_topics(platform.topic_partitions, platform.topic_prefix))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    settings = NotificationSettings()
    async with service_context(SERVICE, settings.pg_schema, MIGRATIONS, platform) as ctx:
        await run_worker(
            build_service(ctx.pool, ctx.schema, settings),
            ctx.producer,
            bootstrap,
            stop,
            prefix=platform.topic_prefix,
            instance_id=f"notification-worker-{platform.instance_ordinal}",
        )


class _Parts:
    def __init__(self, ctx: ServiceContext) -> None:
        self.service: NotificationService = build_service(ctx.pool, ctx.schema, NotificationSettings())
        self.applicants, self.webhooks = consumers(self.service, ctx.producer)
        self.relay = ctx.relay(route(ctx.settings.topic_prefix), self.service.settings.source)


def main() -> None:
    settings = PlatformSettings()
    configure_logging(settings.log_level)
    if os.environ.get("NOTIFICATION_WORKER_RUNTIME", "faust") == "aiokafka":
        asyncio.run(serve())
        return
    instance = f"{SERVICE}-worker-{settings.instance_ordinal}"

    async def relay(parts: _Parts, stop: asyncio.Event) -> None:
        await parts.relay.run(stop)

    async def dispatcher(parts: _Parts, stop: asyncio.Event) -> None:
        await parts.service.dispatcher.run(stop, instance)

    worker = ServiceWorker(
        service=SERVICE,
        schema=NotificationSettings().pg_schema,
        migrations=MIGRATIONS,
        build=_Parts,
        agents=[
            ("notification_applicants", APPLICANT_TOPICS, lambda parts: parts.applicants),
            ("notification_webhooks", WEBHOOK_TOPICS, lambda parts: parts.webhooks),
        ],
        backgrounds=[("notification_relay", relay), ("notification_dispatcher", dispatcher)],
    )
    run_faust_worker(worker, settings)


if __name__ == "__main__":
    main()
