"""Audit appends under concurrency: keyed chains per office against the single head row they
replaced, and against a plain one-row insert, in the same run.

Eight writers each commit transactions that append one audit record. Figures (records/s):
- `audit_append_8_offices`: eight offices, one chain each (the INSERT-only `audit_append`);
- `audit_append_1_office`: all eight on one office's chain (they take turns on its lock);
- baselines: a plain INSERT of the same row (`raw_insert`), and the former design — one
  `audit_head` row locked FOR UPDATE, INSERT, UPDATE of the head in a savepoint (`single_head`).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg

from bench.rows import ratio_row
from shared.audit import AuditEntry, AuditKey, AuditLog
from shared.audit.records import chain_mac
from shared.db.pool import create_pool
from shared.eventstore import apply_migrations

WRITERS = 8
PER_WRITER = 250
Row = dict[str, Any]
KEY = AuditKey(b"bench key")


def _entry(w: int, i: int, office: str) -> AuditEntry:
    return AuditEntry(actor=f"user-{w}", role="clerk", office=office, action="bench.act", subject=f"case/{i}")


async def _timed(pool: asyncpg.Pool, work: Any) -> float:
    async def writer(w: int) -> None:
        async with pool.acquire() as conn:
            for i in range(PER_WRITER):
                async with conn.transaction():
                    await work(conn, w, i)

    started = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(WRITERS)))
    return WRITERS * PER_WRITER / (time.perf_counter() - started)


async def _chains(pool: asyncpg.Pool, schema: str, offices: int) -> float:
    log = AuditLog(schema, KEY)

    async def work(conn: asyncpg.Connection, w: int, i: int) -> None:
        await log.append(conn, _entry(w, i, f"office-{w % offices}-{offices}"))

    return await _timed(pool, work)


async def _raw(pool: asyncpg.Pool, schema: str) -> float:
    async def work(conn: asyncpg.Connection, w: int, i: int) -> None:
        e = _entry(w, i, "office")
        await conn.execute(
            f"INSERT INTO {schema}.raw_audit (actor, role, office, action, subject, details)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            e.actor, e.role, e.office, e.action, e.subject, e.details,
        )  # fmt: skip

    return await _timed(pool, work)


async def _single_head(pool: asyncpg.Pool, schema: str) -> float:
    async def work(conn: asyncpg.Connection, w: int, i: int) -> None:
        e = _entry(w, i, "office")
        async with conn.transaction():  # the savepoint the former append opened
            head = await conn.fetchrow(f"SELECT seq, hash FROM {schema}.old_head FOR UPDATE")
            assert head is not None
            at = datetime.now(UTC)
            mac = chain_mac(KEY, "-", head["seq"] + 1, at, e, head["hash"])
            await conn.execute(
                f"INSERT INTO {schema}.old_log (seq, recorded_at, actor, subject, prev_hash, hash)"
                " VALUES ($1, $2, $3, $4, $5, $6)",
                head["seq"] + 1, at, e.actor, e.subject, head["hash"], mac,
            )  # fmt: skip
            await conn.execute(f"UPDATE {schema}.old_head SET seq = $1, hash = $2", head["seq"] + 1, mac)

    return await _timed(pool, work)


async def run(database_url: str, bootstrap_servers: str) -> list[Row]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    pool = await create_pool(database_url, min_size=WRITERS, max_size=WRITERS)
    try:
        async with pool.acquire() as conn:
            await apply_migrations(conn, schema)
            await conn.execute(
                f"CREATE TABLE {schema}.raw_audit (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                " recorded_at timestamptz NOT NULL DEFAULT now(), actor text, role text, office text,"
                " action text, subject text, details jsonb);"
                f" CREATE TABLE {schema}.old_log (seq bigint PRIMARY KEY, recorded_at timestamptz,"
                " actor text, subject text, prev_hash text, hash text);"
                f" CREATE TABLE {schema}.old_head (seq bigint NOT NULL, hash text NOT NULL);"
                f" INSERT INTO {schema}.old_head VALUES (0, repeat('0', 64));"
            )
        raw = await _raw(pool, schema)
        single = await _single_head(pool, schema)
        one_office = await _chains(pool, schema, 1)
        eight_offices = await _chains(pool, schema, WRITERS)
        return [
            ratio_row("audit_append_8_offices", eight_offices, raw, "records/s", baseline_name="raw_insert"),
            ratio_row(
                "audit_append_8_offices_vs_single_head",
                eight_offices,
                single,
                "records/s",
                baseline_name="single_head",
            ),
            ratio_row(
                "audit_append_1_office_vs_single_head",
                one_office,
                single,
                "records/s",
                baseline_name="single_head",
            ),
        ]
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await pool.close()


if __name__ == "__main__":
    import json
    import os

    rows = asyncio.run(run(os.environ["DATABASE_URL"], ""))
    print(json.dumps(rows, indent=2))
