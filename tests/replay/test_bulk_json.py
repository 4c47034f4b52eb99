"""A bulk replay sends json/jsonb in PostgreSQL's binary format (`shared.replay.bulk.binary_json`,
what a binary COPY needs): the same text the pool's codec sends, and the pool's codecs again after."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import asyncpg

from shared.db.pool import dumps
from shared.replay.bulk import _json_bytes, _jsonb_bytes, binary_json

VALUES: list[object] = [
    [],
    {},
    ["identity_card", "ü"],
    {"c1": {"registered_at": "2025-03-03T10:00:00+00:00", "review_due_on": None}},
    [{"id": "g1", "text": "ť"}],
    {"at": datetime(2025, 3, 3, 9, tzinfo=timezone(timedelta(hours=5)))},
    {"naive": datetime(2025, 1, 1, 1, 2, 3, 4)},
    {"day": date(2025, 1, 1), "id": uuid.UUID(int=7), "amount": Decimal("1.10"), 1: "key", "big": 2**70},
]


def test_the_binary_text_is_the_pool_codecs_text() -> None:
    for value in VALUES:
        assert _json_bytes(value) == dumps(value).encode(), value
        assert _jsonb_bytes(value) == b"\x01" + dumps(value).encode(), value


async def test_values_round_trip_and_the_text_codecs_come_back(pool: asyncpg.Pool) -> None:
    plain = [{"a": [1, "b"]}, {"at": datetime(2025, 3, 3, tzinfo=UTC).isoformat()}]
    async with pool.acquire() as conn:
        async with binary_json(conn):
            assert await conn.fetchval("SELECT $1::jsonb", plain) == plain
            assert await conn.fetchval("SELECT $1::json", plain) == plain
        assert await conn.fetchval("SELECT $1::jsonb", plain) == plain
        assert await conn.fetchval("SELECT '[1, 2]'::jsonb") == [1, 2]
