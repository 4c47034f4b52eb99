"""The timer scheduler as its own process (`python -m services.decision.entrypoints.scheduler`).

Any number of copies may run next to the workers: due timers are leased (SKIP LOCKED, a lease
that runs out if its scheduler dies) and marked fired in the unit of work that appends their
events, only if nobody fired or cancelled them meanwhile, so no timer fires twice.
"""

from __future__ import annotations

import asyncio
import signal

from services.decision.bootstrap import MIGRATIONS, SCHEMA, SERVICE, build_service, run_scheduler
from shared.logging import configure_logging
from shared.runtime.context import service_context
from shared.runtime.metrics_listener import start_metrics_listener
from shared.settings import PlatformSettings


async def serve() -> None:
    platform = PlatformSettings()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with service_context(SERVICE, SCHEMA, MIGRATIONS, platform) as ctx:
        await run_scheduler(
            build_service(ctx.pool, ctx.schema),
            stop,
            worker=f"decision-scheduler-{platform.instance_ordinal}",
        )


def main() -> None:
    configure_logging(PlatformSettings().log_level)
    start_metrics_listener("decision-scheduler")
    asyncio.run(serve())


if __name__ == "__main__":
    main()
