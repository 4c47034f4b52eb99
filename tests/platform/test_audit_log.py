"""Keyed audit chains: append-only, one chain per office, tamper-evident against a superuser."""

from __future__ import annotations

import asyncpg
import pytest
from asyncpg.connection import LoggedQuery

from shared.audit import AuditEntry, AuditKey, AuditLog, verify_schema

KEY = AuditKey(b"test audit key, not in the database")


def entry(i: int, office: str | None = "office-a") -> AuditEntry:
    return AuditEntry(
        actor=f"user-{i}",
        role="clerk",
        office=office,
        action="test.act",
        subject=f"case-{i}",
        details={"i": i},
    )


async def fill(pool: asyncpg.Pool, log: AuditLog, n: int, office: str | None = "office-a") -> None:
    async with pool.acquire() as conn:
        for i in range(n):
            await log.append(conn, entry(i, office))


async def test_intact_chains_verify_one_per_office(pool: asyncpg.Pool, schema: str) -> None:
    log = AuditLog(schema, KEY)
    await fill(pool, log, 3, "office-a")
    await fill(pool, log, 2, "office-b")
    await fill(pool, log, 1, None)
    async with pool.acquire() as conn:
        result = await verify_schema(conn, schema, KEY)
        seqs = await conn.fetch(f"SELECT chain, seq FROM {schema}.audit_log ORDER BY chain, seq")
    assert result.ok and result.checked == 6
    assert [(r.chain, r.head_seq) for r in result.chains] == [("-", 1), ("office-a", 3), ("office-b", 2)]
    assert [tuple(r) for r in seqs] == [("-", 1), ("office-a", 1), ("office-a", 2), ("office-a", 3),
                                        ("office-b", 1), ("office-b", 2)]  # fmt: skip


async def test_update_and_delete_are_refused(pool: asyncpg.Pool, schema: str) -> None:
    await fill(pool, AuditLog(schema, KEY), 1)
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute(f"UPDATE {schema}.audit_log SET actor = 'x'")
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute(f"DELETE FROM {schema}.audit_log")


async def test_an_append_is_one_statement_when_the_process_knows_the_head(
    pool: asyncpg.Pool, schema: str
) -> None:
    log = AuditLog(schema, KEY)
    await fill(pool, log, 1, "office-stmt")
    statements: list[str] = []
    async with pool.acquire() as conn:

        def logged(record: LoggedQuery) -> None:
            statements.append(record.query)

        conn.add_query_logger(logged)
        try:
            async with conn.transaction():
                await log.append(conn, entry(2, "office-stmt"))
                await log.append(conn, entry(3, "office-stmt"))
        finally:
            conn.remove_query_logger(logged)
    audit_statements = [s for s in statements if "audit" in s]
    assert len(audit_statements) == 2, statements  # one per append: no head row, no savepoint
    assert all("audit_append" in s for s in audit_statements)
    async with pool.acquire() as conn:
        assert (await verify_schema(conn, schema, KEY)).checked == 3


async def test_a_stale_head_is_corrected_by_the_database(pool: asyncpg.Pool, schema: str) -> None:
    """Another process appended meanwhile: the append learns the head and still links to it."""
    mine, theirs = AuditLog(schema, KEY), AuditLog(schema, KEY)
    await fill(pool, mine, 2, "office-c")
    from shared.audit import log as log_module

    known = log_module._HEADS[(schema, "office-c")]
    await fill(pool, theirs, 3, "office-c")
    log_module._HEADS[(schema, "office-c")] = known  # this process still believes seq 2 is the head
    await fill(pool, mine, 1, "office-c")
    async with pool.acquire() as conn:
        result = await verify_schema(conn, schema, KEY)
    assert result.ok and result.chains[0].head_seq == 6
