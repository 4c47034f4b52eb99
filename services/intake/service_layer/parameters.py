"""The parameter values and edition adoptions administrators recorded (`qyzmet params set`,
`qyzmet adoptions add`), read into intake's catalog: a term set by a parameter (a district's
housing assistance term) gives the due date, and an adopted edition governs new applications.
Read through `shared.catalog.stored_parameters`, which never creates the catalog's schema."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import structlog

from services.intake.adapters.catalog import CatalogAdapter
from shared.catalog.stored_parameters import stored_adoption_records, stored_parameter_records

log = structlog.get_logger(__name__)


class StoredParameterRefresh:
    """Re-reads the stored values into `catalog` at most every `refresh_s` seconds."""

    def __init__(self, pool: asyncpg.Pool, catalog: CatalogAdapter, schema: str, refresh_s: float) -> None:
        self.pool = pool
        self.catalog = catalog
        self.schema = schema
        self.refresh_s = refresh_s
        self._read_at = -math.inf
        self._reading = asyncio.Lock()

    def before(self, handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        """`handler` (the submit use case) with the stored values brought up to date first."""

        async def with_current_parameters(*args: Any) -> Any:
            await self.current()
            return await handler(*args)

        return with_current_parameters

    async def current(self) -> None:
        """Re-read when stale. One reader at a time; while it reads, other submissions go on with
        the values read last (none of them waits for a second pool connection)."""
        if time.monotonic() - self._read_at < self.refresh_s or self._reading.locked():
            return
        async with self._reading:
            try:
                await self.refresh(acquire_timeout_s=2.0)
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("parameter values not re-read; using the last ones", error=type(exc).__name__)

    async def refresh(self, acquire_timeout_s: float | None = None) -> None:
        """Read now; the reader holds its command's connection, so it never waits for ever."""
        async with self.pool.acquire(timeout=acquire_timeout_s) as conn:
            records = await stored_parameter_records(conn, self.schema)
            adoptions = await stored_adoption_records(conn, self.schema)
        self.catalog.use_stored(records, adoptions)
        self._read_at = time.monotonic()
