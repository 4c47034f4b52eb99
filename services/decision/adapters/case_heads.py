"""The versions of many case streams in one statement (the event store's `streams` heads)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from shared.db.identifiers import checked_identifier


async def stream_versions(conn: asyncpg.Connection, schema: str, streams: Sequence[str]) -> dict[str, int]:
    """Version of each stream that has a head row (a stream without one is at version 0)."""
    rows = await conn.fetch(
        f"SELECT s.stream_id, s.version FROM unnest($1::text[]) AS u(stream_id)"
        f" JOIN {checked_identifier(schema)}.streams AS s ON s.stream_id = u.stream_id",
        list(streams),
    )
    return {row["stream_id"]: row["version"] for row in rows}
