"""Databases on a PostgreSQL server: a URL naming another database, and creating or dropping one
(async, and sync forms safe to call while an event loop runs, e.g. from pytest fixtures).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

_T = TypeVar("_T")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def with_database(url: str, name: str) -> str:
    """``url`` with its database (path) replaced by ``name``."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def check_database_name(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"invalid database name {name!r}: use letters, digits and _, at most 63")
    return name


async def acreate_database(url: str, name: str, *, exists_ok: bool = False) -> str:
    """Create database ``name`` on the server of ``url``; return the URL of the new database."""
    import asyncpg

    check_database_name(name)
    conn = await asyncpg.connect(url, timeout=10)
    try:
        for attempt in range(20):
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
                break
            except asyncpg.DuplicateDatabaseError:
                if not exists_ok:
                    raise
                break
            except asyncpg.ObjectInUseError:
                # "source database template1 is being accessed by other users": another
                # CREATE DATABASE runs concurrently; retry shortly.
                if attempt == 19:
                    raise
                await asyncio.sleep(0.1)
    finally:
        await conn.close()
    return with_database(url, name)


async def adrop_database(url: str, name: str) -> None:
    """Drop database ``name`` (if it exists) on the server of ``url``, disconnecting its users."""
    import asyncpg

    check_database_name(name)
    conn = await asyncpg.connect(url, timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _run_sync(factory: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    """Run a coroutine to completion from sync code, even when an event loop already runs here."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


def create_database(url: str, name: str, *, exists_ok: bool = False) -> str:
    """Sync form of :func:`acreate_database` (safe to call from inside a running event loop)."""
    return _run_sync(lambda: acreate_database(url, name, exists_ok=exists_ok))


def drop_database(url: str, name: str) -> None:
    """Sync form of :func:`adrop_database`."""
    _run_sync(lambda: adrop_database(url, name))
