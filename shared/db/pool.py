"""asyncpg connection pools with JSON codecs and sane defaults."""

from __future__ import annotations

import asyncio
import functools
import json
import uuid
import weakref
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import orjson
from asyncpg.connection import LoggedQuery


def _json_default(value: object) -> str:
    """Exact decimals stay exact (as strings); times and ids in their ISO/canonical form."""
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps(value: object) -> str:
    """Compact UTF-8 JSON (orjson: encoding and decoding every event payload is a hot path)."""
    try:
        return orjson.dumps(value, default=_json_default, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # what orjson refuses and json takes, such as integers beyond 64 bits
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def loads(text: str | bytes) -> Any:
    """JSON to Python; integers beyond 64 bits come back as floats (orjson)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # what orjson refuses and json takes
        return json.loads(text)


async def _init_connection(conn: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name,
            encoder=dumps,
            decoder=loads,
            schema="pg_catalog",
        )
    conn.add_query_logger(functools.partial(_note_failure, weakref.ref(conn)))


_NEEDS_RESET: weakref.WeakSet[asyncpg.Connection] = weakref.WeakSet()
"""Connections a statement failed on since they were last reset."""


def _note_failure(conn: weakref.ref[asyncpg.Connection], record: LoggedQuery) -> None:
    connection = conn()
    if record.exception is not None and connection is not None:
        _NEEDS_RESET.add(connection)


async def keep_session(conn: asyncpg.Connection) -> None:
    """A released connection goes back to the pool as it is: asyncpg still rolls back a
    transaction left open and drops listeners, but sends no `RESET ALL; UNLISTEN *;
    pg_advisory_unlock_all(); CLOSE ALL` (a round trip on every release, 25-55 % of a short
    transaction's time here). So pooled connections keep no session state: settings are
    `SET LOCAL`, locks `pg_advisory_xact_lock`; who takes a session lock (the outbox relay)
    releases it, or terminates the connection when it cannot.

    A connection a statement failed on is reset in full all the same: an argument asyncpg cannot
    encode leaves the server mid-statement, in a transaction holding its locks and its snapshot
    (which holds back every gap-safe reader) until the connection's next statement."""
    await asyncio.sleep(0)  # asyncpg hands query logs to the loop: let a failure's arrive
    if conn in _NEEDS_RESET:
        _NEEDS_RESET.discard(conn)
        await conn.execute(conn.get_reset_query())


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10, **kwargs: Any) -> asyncpg.Pool:
    """A pool whose connections encode and decode json/jsonb as Python objects and are released
    without a reset query (`keep_session`; pass `reset=None` for asyncpg's full reset)."""
    kwargs.setdefault("reset", keep_session)
    pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=_init_connection, **kwargs
    )
    assert pool is not None
    return pool


async def connect(dsn: str) -> asyncpg.Connection:
    """A single connection with the same codecs as `create_pool`."""
    conn: asyncpg.Connection = await asyncpg.connect(dsn)
    await _init_connection(conn)
    return conn
