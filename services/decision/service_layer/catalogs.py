"""Where the handlers get the catalog: the shipped catalog plus the parameter values that
administrators recorded (`qyzmet params set`), re-read at most every `parameter_refresh_s`."""

from __future__ import annotations

import math
import time
from typing import Protocol

import asyncpg

from services.decision.adapters.catalog import DecisionCatalog
from services.decision.settings import DecisionSettings
from shared.catalog.stored_parameters import stored_parameter_records


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

    async def current(self) -> DecisionCatalog:
        if time.monotonic() - self._read_at >= self.settings.parameter_refresh_s:
            await self.refresh()
        return self.catalog

    async def refresh(self) -> None:
        async with self.pool.acquire() as conn:
            records = await stored_parameter_records(conn, self.settings.catalog_schema)
        self.catalog = self.catalog.with_stored(records)
        self._read_at = time.monotonic()
