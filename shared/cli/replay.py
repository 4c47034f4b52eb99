"""`qyzmet replay PROJECTION`: rebuild a projection from its service's event store.

Each installed service names its projections in its plugin (`shared.runtime.registry`): a
mapping name -> rebuild (returning the number of events replayed). The projection is named
`<service>.<name>`; only the services' projection modules are imported, and only here.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import asyncpg

from shared.db.pool import create_pool
from shared.runtime.registry import Rebuild, registered_services
from shared.settings import PlatformSettings


def known_projections() -> dict[str, Rebuild]:
    return {
        f"{plugin.name}.{name}": rebuild
        for plugin in registered_services()
        for name, rebuild in plugin.load_projections().items()
    }


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
