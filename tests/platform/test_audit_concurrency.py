"""Audit chains per office: offices append in parallel, one office's chain stays linear."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg

from shared.audit import AuditLog, verify_schema
from tests.platform.test_audit_log import KEY, entry


async def test_another_office_appends_while_one_office_holds_its_chain(
    pool: asyncpg.Pool, schema: str
) -> None:
    log = AuditLog(schema, KEY)
    async with pool.acquire() as holder, pool.acquire() as other, pool.acquire() as same:
        transaction = holder.transaction()
        await transaction.start()
        await log.append(holder, entry(1, "office-a"))  # office-a's chain is locked until commit
        await asyncio.wait_for(log.append(other, entry(2, "office-b")), 2.0)  # not waiting on it
        waiting = asyncio.create_task(log.append(same, entry(3, "office-a")))
        await asyncio.sleep(0.3)
        assert not waiting.done()  # the same office waits for the chain's head
        await transaction.commit()
        record = await asyncio.wait_for(waiting, 5.0)
    assert (record.chain, record.seq) == ("office-a", 2)


async def test_concurrent_appends_keep_each_chain_linear_and_gap_free(
    pool: asyncpg.Pool, schema: str
) -> None:
    log = AuditLog(schema, KEY)

    class Abandoned(Exception):
        pass

    async def writer(w: int) -> None:
        for i in range(15):  # every fifth action fails after its audit record: rolled back
            with contextlib.suppress(Abandoned):
                async with pool.acquire() as conn, conn.transaction():
                    await log.append(conn, entry(w * 100 + i, f"office-{w % 2}"))
                    if i % 5 == 4:
                        raise Abandoned

    await asyncio.gather(*(writer(w) for w in range(6)))
    async with pool.acquire() as conn:
        result = await verify_schema(conn, schema, KEY)
        seqs = {
            chain: [r["seq"] for r in await conn.fetch(
                f"SELECT seq FROM {schema}.audit_log WHERE chain = $1 ORDER BY seq", chain
            )]
            for chain in ("office-0", "office-1")
        }  # fmt: skip
    assert result.ok, result.breaks
    assert seqs == {"office-0": list(range(1, 37)), "office-1": list(range(1, 37))}


async def test_rolled_back_appends_leave_no_gap(pool: asyncpg.Pool, schema: str) -> None:
    log = AuditLog(schema, KEY)
    async with pool.acquire() as conn:
        await log.append(conn, entry(1, "office-r"))
        transaction = conn.transaction()
        await transaction.start()
        await log.append(conn, entry(2, "office-r"))  # this process now believes seq 2 is the head
        await transaction.rollback()
        record = await log.append(conn, entry(3, "office-r"))
        result = await verify_schema(conn, schema, KEY)
    assert record.seq == 2 and result.ok and result.checked == 2


async def test_an_advisory_lock_on_a_chain_does_not_block_its_appends(
    pool: asyncpg.Pool, schema: str
) -> None:
    """Advisory locks need no privilege: any role could take the key the chain used to be locked
    with. The chain is locked on a row only the owner's function can reach."""
    log = AuditLog(schema, KEY)
    async with pool.acquire() as squatter, pool.acquire() as conn:
        for chain in ("office-a", "-"):
            await squatter.execute(
                "SELECT pg_advisory_lock(hashtext($1), hashtext($2))", f"audit:{schema}", chain
            )
        await conn.execute("SET lock_timeout = '2s'")
        try:
            first = await asyncio.wait_for(log.append(conn, entry(1, "office-a")), 5.0)
            other = await asyncio.wait_for(log.append(conn, entry(2, None)), 5.0)
        finally:
            await squatter.execute("SELECT pg_advisory_unlock_all()")
            await conn.execute("RESET lock_timeout")
    assert (first.chain, first.seq, other.chain, other.seq) == ("office-a", 1, "-", 1)
