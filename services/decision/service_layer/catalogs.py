"""Where the handlers get the catalog: the shipped catalog plus the parameter values that
administrators recorded (`qyzmet params set`), re-read at most every `parameter_refresh_s`.

The re-read needs a connection of its own while the command that asked already holds one (its
unit of work). So one task re-reads at a time and nobody waits for it once a first read has
succeeded: the others decide on the values read a moment ago and give their connections back,
and a re-read that cannot get a connection in time gives up until the next turn. A full pool
can thus never wait on itself.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Protocol

import asyncpg
import structlog

from services.decision.adapters.catalog import DecisionCatalog
from services.decision.settings import DecisionSettings
from shared.catalog.stored_parameters import stored_parameter_records

log = structlog.get_logger(__name__)

ACQUIRE_TIMEOUT_S = 2.0


class CatalogSource(Protocol):
    async def current(self) -> DecisionCatalog: ...


class FixedCatalog:
    """A catalog that never changes (unit tests, tools)."""

    def __init__(self, catalog: DecisionCatalog) -> None:
        self.catalog = catalog

    async def current(self) -> DecisionCatalog:
        return self.catalog


class StoredParameters:
    """The catalog with the administrator-set parameter values read from PostgreSQL."""

    def __init__(self, pool: asyncpg.Pool, catalog: DecisionCatalog, settings: DecisionSettings) -> None:
        self.pool = pool
        self.catalog = catalog
        self.settings = settings
        self._read_at = -math.inf
        self._reading = asyncio.Lock()

    def _stale(self) -> bool:
        return time.monotonic() - self._read_at >= self.settings.parameter_refresh_s

    async def current(self) -> DecisionCatalog:
        never_read = self._read_at == -math.inf
        if self._stale() and (never_read or not self._reading.locked()):
            async with self._reading:
                if self._stale():
                    await self._try_refresh()
        return self.catalog

    async def _try_refresh(self) -> None:
        try:
            await self.refresh(acquire_timeout_s=ACQUIRE_TIMEOUT_S)
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("parameter values not re-read; using the last ones", error=type(exc).__name__)

    async def refresh(self, acquire_timeout_s: float | None = None) -> None:
        async with self.pool.acquire(timeout=acquire_timeout_s) as conn:
            records = await stored_parameter_records(conn, self.settings.catalog_schema)
        self.catalog = self.catalog.with_stored(records)
        self._read_at = time.monotonic()
