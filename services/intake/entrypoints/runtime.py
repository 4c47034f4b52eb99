"""What the intake API needs at run time: the pool, the wired service, and (optionally) the
status projector running in this process; `start`/`stop` run from the lifespan (or a test)."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import structlog
from prometheus_client import CollectorRegistry, Gauge

from services.intake.adapters.catalog import CatalogAdapter
from services.intake.adapters.offices import OfficeBook
from services.intake.bootstrap import MIGRATIONS, SERVICE, IntakeDeps, build, migrate
from services.intake.service import Clock
from shared.http.problems import unavailable
from shared.runtime.context import open_service_pool
from shared.runtime.shutdown import close_pool
from shared.settings import PlatformSettings

log = structlog.get_logger(__name__)


class IntakeRuntime:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool | None,
        settings: PlatformSettings,
        schema: str,
        catalog: CatalogAdapter | None,
        offices: OfficeBook | None,
        clock: Clock,
        run_projector: bool,
        metrics: CollectorRegistry,
    ) -> None:
        self._pool = pool
        self._owns_pool = pool is None
        self._settings = settings
        self.schema = schema
        self._catalog = catalog
        self._offices = offices
        self._clock = clock
        self.run_projector = run_projector
        self._deps: IntakeDeps | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.lag_gauge = Gauge(
            "intake_projection_lag_events",
            "Events in the intake event store not yet applied to the status projection",
            registry=metrics,
        )

    @property
    def deps(self) -> IntakeDeps:
        if self._deps is None:
            raise unavailable("the intake service is starting")
        return self._deps

    async def start(self) -> None:
        if self._deps is not None:
            return
        if self._pool is None:  # as the service's login role, on its migrated schema
            self._pool = await open_service_pool(SERVICE, self.schema, MIGRATIONS, self._settings)
        else:
            await migrate(self._pool, self.schema)
        self._deps = build(
            self._pool,
            self.schema,
            catalog=self._catalog,
            offices=self._offices,
            clock=self._clock,
        )
        self._stop.clear()
        self._tasks.append(asyncio.create_task(self._report_lag()))
        if self.run_projector:
            self._tasks.append(asyncio.create_task(self._deps.projector.run(self._stop)))

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 5)
        self._tasks.clear()
        if self._owns_pool and self._pool is not None:
            await close_pool(self._pool)  # bounded: the supervisor kills what does not stop
            self._pool = None
        self._deps = None

    async def _report_lag(self) -> None:
        while not self._stop.is_set():
            if self._deps is not None:
                try:
                    self.lag_gauge.set(await self._deps.projector.lag())
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    log.warning("projection lag unavailable", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), 1.0)

    async def healthy(self) -> bool:
        if self._deps is None:
            return False
        try:
            async with self._deps.pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False
        return True
