"""Hash-chained audit log: append-only, tamper-evident."""

from __future__ import annotations

import asyncpg
import pytest

from shared.audit import AuditEntry, AuditLog


async def _fill(pool: asyncpg.Pool, log: AuditLog, n: int) -> None:
    async with pool.acquire() as conn:
        for i in range(n):
            await log.append(
                conn,
                AuditEntry(
                    actor=f"user-{i}", role="clerk", action="test.act", subject=f"case-{i}", details={"i": i}
                ),
            )


async def _tamper(pool: asyncpg.Pool, schema: str, sql: str) -> None:
    async with pool.acquire() as conn:
        await conn.execute(f"ALTER TABLE {schema}.audit_log DISABLE TRIGGER audit_log_append_only")
        await conn.execute(sql.replace("{schema}", schema))
        await conn.execute(f"ALTER TABLE {schema}.audit_log ENABLE TRIGGER audit_log_append_only")


async def test_intact_chain_verifies(pool: asyncpg.Pool, schema: str) -> None:
    log = AuditLog(schema)
    await _fill(pool, log, 5)
    async with pool.acquire() as conn:
        result = await log.verify(conn)
    assert result.ok and result.checked == 5


async def test_update_and_delete_are_refused(pool: asyncpg.Pool, schema: str) -> None:
    log = AuditLog(schema)
    await _fill(pool, log, 1)
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute(f"UPDATE {schema}.audit_log SET actor = 'x'")
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute(f"DELETE FROM {schema}.audit_log")


async def test_verifier_names_edited_record(pool: asyncpg.Pool, schema: str) -> None:
    log = AuditLog(schema)
    await _fill(pool, log, 5)
    await _tamper(pool, schema, "UPDATE {schema}.audit_log SET actor = 'mallory' WHERE seq = 3")
    async with pool.acquire() as conn:
        result = await log.verify(conn)
    assert not result.ok
    assert result.first_bad_seq == 3
    assert "edited" in (result.reason or "")


async def test_verifier_names_deleted_record(pool: asyncpg.Pool, schema: str) -> None:
    log = AuditLog(schema)
    await _fill(pool, log, 5)
    await _tamper(pool, schema, "DELETE FROM {schema}.audit_log WHERE seq = 2")
    async with pool.acquire() as conn:
        result = await log.verify(conn)
    assert not result.ok
    assert result.first_bad_seq == 2
    assert "missing" in (result.reason or "")


async def test_verifier_detects_deleted_tail(pool: asyncpg.Pool, schema: str) -> None:
    log = AuditLog(schema)
    await _fill(pool, log, 4)
    await _tamper(pool, schema, "DELETE FROM {schema}.audit_log WHERE seq = 4")
    async with pool.acquire() as conn:
        result = await log.verify(conn)
    assert not result.ok
    assert result.first_bad_seq == 4


async def test_verifier_names_reordered_record(pool: asyncpg.Pool, schema: str) -> None:
    log = AuditLog(schema)
    await _fill(pool, log, 5)
    # Swap records 2 and 3 (their contents, hashes and links move with them; the seqs stay).
    await _tamper(
        pool,
        schema,
        "UPDATE {schema}.audit_log AS a SET recorded_at = b.recorded_at, actor = b.actor,"
        " subject = b.subject, details = b.details, prev_hash = b.prev_hash, hash = b.hash"
        " FROM {schema}.audit_log AS b WHERE (a.seq, b.seq) IN ((2, 3), (3, 2))",
    )
    async with pool.acquire() as conn:
        result = await log.verify(conn)
    assert not result.ok
    assert result.first_bad_seq == 2


async def test_concurrent_appends_keep_one_chain(pool: asyncpg.Pool, schema: str) -> None:
    import asyncio

    log = AuditLog(schema)
    await asyncio.gather(*(_fill(pool, log, 5) for _ in range(4)))
    async with pool.acquire() as conn:
        result = await log.verify(conn)
    assert result.ok and result.checked == 20
