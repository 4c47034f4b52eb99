"""Projections of the complaints service that `qyzmet replay complaints.<name>` can rebuild."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from services.complaints.adapters.projection import rebuild
from services.complaints.bootstrap import schema_from_env


async def _complaints(pool: asyncpg.Pool) -> int:
    return await rebuild(pool, schema_from_env())


PROJECTIONS: dict[str, Callable[[asyncpg.Pool], Awaitable[int]]] = {"complaints": _complaints}
