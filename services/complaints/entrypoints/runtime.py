"""What the complaints API needs at run time: the pool and the wired service; `start`/`stop` run
from the lifespan (or a test)."""

from __future__ import annotations

import asyncpg

from services.complaints.adapters.catalog import ComplaintsCatalog
from services.complaints.bootstrap import MIGRATIONS, SERVICE, build, migrate
from services.complaints.service import Clock, ComplaintsService
from shared.http.problems import unavailable
from shared.runtime.context import open_service_pool
from shared.runtime.shutdown import close_pool
from shared.settings import PlatformSettings


class ComplaintsRuntime:
    def __init__(
        self,
        *,
        pool: asyncpg.Pool | None,
        settings: PlatformSettings,
        schema: str,
        catalog: ComplaintsCatalog | None,
        clock: Clock,
    ) -> None:
        self._pool = pool
        self._owns_pool = pool is None
        self._settings = settings
        self.schema = schema
        self._catalog = catalog
        self._clock = clock
        self._service: ComplaintsService | None = None

    @property
    def service(self) -> ComplaintsService:
        if self._service is None:
            raise unavailable("the complaints service is starting")
        return self._service

    async def start(self) -> None:
        if self._service is not None:
            return
        if self._pool is None:  # as the service's login role, on its migrated schema
            self._pool = await open_service_pool(SERVICE, self.schema, MIGRATIONS, self._settings)
        else:
            await migrate(self._pool, self.schema)
        self._service = build(self._pool, self.schema, catalog=self._catalog, clock=self._clock)

    async def stop(self) -> None:
        if self._owns_pool and self._pool is not None:
            await close_pool(self._pool)  # bounded: the supervisor kills what does not stop
            self._pool = None
        self._service = None

    async def healthy(self) -> bool:
        if self._pool is None or self._service is None:
            return False
        try:
            async with self._pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False
        return True
