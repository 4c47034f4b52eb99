"""`qyzmet replay PROJECTION`: rebuild a projection from its service's event store.

Each service lists its projections in `services/<service>/projections.py` as
`PROJECTIONS: dict[str, Callable[[asyncpg.Pool], Awaitable[int]]]` (name -> rebuild,
returning the number of events replayed). The projection is named `<service>.<name>`.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from shared.cli.serve import SERVICES
from shared.db.pool import create_pool
from shared.settings import PlatformSettings

Rebuild = Callable[[asyncpg.Pool], Awaitable[int]]


def known_projections() -> dict[str, Rebuild]:
    found: dict[str, Rebuild] = {}
    for service in SERVICES:
        try:
            module = importlib.import_module(f"services.{service}.projections")
        except ModuleNotFoundError:
            continue
        for name, rebuild in getattr(module, "PROJECTIONS", {}).items():
            found[f"{service}.{name}"] = rebuild
    return found


async def _replay(database_url: str, rebuild: Rebuild) -> int:
    pool = await create_pool(database_url, min_size=1, max_size=4)
    try:
        return await rebuild(pool)
    finally:
        await pool.close()


def _replay_command(args: argparse.Namespace) -> int:
    projections = known_projections()
    if args.list or not args.projection:
        for name in sorted(projections):
            print(name)
        return 0
    rebuild = projections.get(args.projection)
    if rebuild is None:
        print(
            f"qyzmet: unknown projection {args.projection!r}; known: {sorted(projections)}", file=sys.stderr
        )
        return 2
    settings = PlatformSettings()
    if not settings.database_url:
        print('qyzmet: DATABASE_URL is not set (run `eval "$(qyzmet infra up)"`)', file=sys.stderr)
        return 2
    try:
        replayed = asyncio.run(_replay(settings.database_url, rebuild))
    except (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError) as exc:
        print(
            f"qyzmet replay: {args.projection}: the service's tables are missing in this database"
            f" ({type(exc).__name__}); has the service run against it?",
            file=sys.stderr,
        )
        return 2
    print(f"{args.projection}: rebuilt from {replayed} events")
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("replay", help="rebuild a projection from the event store")
    parser.add_argument("projection", nargs="?", help="<service>.<projection>; omit to list them")
    parser.add_argument("--list", action="store_true", help="list the projections")
    parser.set_defaults(handler=_replay_command)
