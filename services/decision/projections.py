"""Projections of the decision service that `qyzmet replay decision.<name>` can rebuild."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from services.decision.adapters.projection import rebuild_cases
from services.decision.bootstrap import SCHEMA


async def _cases(pool: asyncpg.Pool) -> int:
    async with pool.acquire() as conn:
        return await rebuild_cases(conn, SCHEMA)


PROJECTIONS: dict[str, Callable[[asyncpg.Pool], Awaitable[int]]] = {"cases": _cases}
