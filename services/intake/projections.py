"""Projections of the intake service that `qyzmet replay intake.<name>` can rebuild."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from services.intake.adapters.projection import rebuild_projection
from services.intake.bootstrap import schema_from_env


async def _applications(pool: asyncpg.Pool) -> int:
    return await rebuild_projection(pool, schema_from_env())


PROJECTIONS: dict[str, Callable[[asyncpg.Pool], Awaitable[int]]] = {"applications": _applications}
