"""Tampering with the audit chains directly in PostgreSQL, as the superuser, round the
append-only trigger: `verify` names the first record edited, deleted, reordered, cut off behind
an anchor, or rewritten and rechained without the key."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from shared.audit import AuditKey, AuditLog, verify_schema
from shared.audit.anchors import Anchor
from shared.audit.records import chain_mac, legacy_hash
from shared.audit.verify import VerificationResult
from tests.platform.test_audit_log import KEY, fill

OFFICE = "office-a"


async def tamper(pool: asyncpg.Pool, *statements: str) -> None:
    """As a superuser who switched the triggers off for the session (replication role)."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        for sql in statements:
            await conn.execute(sql)


async def verify(pool: asyncpg.Pool, schema: str, anchors: list[Anchor] | None = None) -> VerificationResult:
    async with pool.acquire() as conn:
        return await verify_schema(conn, schema, KEY, anchors or [])


async def anchor_now(pool: asyncpg.Pool, schema: str, chain: str = OFFICE) -> Anchor:
    async with pool.acquire() as conn:
        seq, mac = await AuditLog(schema, KEY).head(conn, chain)
    return Anchor(schema, chain, seq, mac, datetime.now(UTC).isoformat())


async def test_edited_record_is_named(pool: asyncpg.Pool, schema: str) -> None:
    await fill(pool, AuditLog(schema, KEY), 5)
    await fill(pool, AuditLog(schema, KEY), 2, "office-b")
    await tamper(
        pool, f"UPDATE {schema}.audit_log SET actor = 'mallory' WHERE chain = '{OFFICE}' AND seq = 3"
    )
    result = await verify(pool, schema)
    assert not result.ok
    assert [(b.schema, b.chain, b.seq) for b in result.breaks] == [(schema, OFFICE, 3)]
    assert "edited" in (result.reason or "")
    assert [c.broken is None for c in result.chains] == [False, True]  # office-b is intact


async def test_deleted_record_is_named(pool: asyncpg.Pool, schema: str) -> None:
    await fill(pool, AuditLog(schema, KEY), 5)
    async with pool.acquire() as conn:  # as the superuser with the trigger disabled
        await conn.execute(f"ALTER TABLE {schema}.audit_log DISABLE TRIGGER audit_log_append_only")
        await conn.execute(f"DELETE FROM {schema}.audit_log WHERE seq = 2")
        await conn.execute(f"ALTER TABLE {schema}.audit_log ENABLE TRIGGER audit_log_append_only")
    result = await verify(pool, schema)
    assert not result.ok and result.first_bad_seq == 2
    assert "missing" in (result.reason or "") and "deleted" in (result.reason or "")


async def test_reordered_records_are_named(pool: asyncpg.Pool, schema: str) -> None:
    await fill(pool, AuditLog(schema, KEY), 5)
    # Swap records 2 and 3: contents, MACs and links move; the sequence numbers stay.
    await tamper(
        pool,
        f"UPDATE {schema}.audit_log AS a SET recorded_at = b.recorded_at, actor = b.actor,"
        " subject = b.subject, details = b.details, prev_hash = b.prev_hash, hash = b.hash"
        f" FROM {schema}.audit_log AS b WHERE a.chain = b.chain AND (a.seq, b.seq) IN ((2, 3), (3, 2))",
    )
    result = await verify(pool, schema)
    assert not result.ok and result.first_bad_seq == 2
    assert "reordered" in (result.reason or "")


async def test_truncated_tail_is_found_by_its_anchor(pool: asyncpg.Pool, schema: str) -> None:
    await fill(pool, AuditLog(schema, KEY), 3)
    early = await anchor_now(pool, schema)
    await fill(pool, AuditLog(schema, KEY), 2)
    late = await anchor_now(pool, schema)
    assert (early.seq, late.seq) == (3, 5)
    await tamper(pool, f"DELETE FROM {schema}.audit_log WHERE chain = '{OFFICE}' AND seq > 3")
    assert (await verify(pool, schema)).ok  # the chain alone is consistent: only anchors can tell
    result = await verify(pool, schema, [early, late])
    assert not result.ok and result.first_bad_seq == 4
    assert "tail was cut off" in (result.reason or "") and "record 5" in (result.reason or "")


async def test_tail_cut_off_and_written_again_differs_from_its_anchor(
    pool: asyncpg.Pool, schema: str
) -> None:
    """The head moved back and the service went on appending: seq 5 exists again, but not the anchored one."""
    log = AuditLog(schema, KEY)
    await fill(pool, log, 5)
    anchor = await anchor_now(pool, schema)
    await tamper(pool, f"DELETE FROM {schema}.audit_log WHERE seq > 3")
    await fill(pool, log, 2)
    result = await verify(pool, schema, [anchor])
    assert not result.ok and result.first_bad_seq == 5
    assert "differs from an anchor published at" in (result.reason or "")


async def test_a_later_anchor_of_the_regrown_tail_does_not_hide_the_cut(
    pool: asyncpg.Pool, schema: str
) -> None:
    """Records 4-5 deleted, the chain grew back to 5 and a newer anchor names the new 5: the
    older anchor still disagrees with the chain, and that is a break."""
    log = AuditLog(schema, KEY)
    await fill(pool, log, 5)
    early = await anchor_now(pool, schema)
    await tamper(pool, f"DELETE FROM {schema}.audit_log WHERE chain = '{OFFICE}' AND seq > 3")
    await fill(pool, log, 2)
    late = await anchor_now(pool, schema)
    assert (early.seq, late.seq) == (5, 5) and early.hash != late.hash
    for anchors in ([early, late], [late, early]):
        result = await verify(pool, schema, anchors)
        assert [(b.schema, b.chain, b.seq) for b in result.breaks] == [(schema, OFFICE, 5)]
        assert f"differs from an anchor published at {early.time}" in (result.reason or "")


async def _rechain(pool: asyncpg.Pool, schema: str, alg: str, mac_of: object) -> None:
    """Edit record 2, then recompute every MAC from there on (what someone without the key can do)."""
    async with pool.acquire() as conn:
        records = [r async for r in AuditLog(schema, KEY).records(conn, OFFICE)]
    statements = []
    prev = records[0].hash
    for record in records[1:]:
        entry = record.entry
        if record.seq == 2:
            entry = type(entry)(**{**entry.__dict__, "actor": "mallory"})
        digest = mac_of(record.seq, record.recorded_at, entry, prev)  # type: ignore[operator]
        statements.append(
            f"UPDATE {schema}.audit_log SET actor = '{entry.actor}', alg = '{alg}', prev_hash = '{prev}',"
            f" hash = '{digest}' WHERE chain = '{OFFICE}' AND seq = {record.seq}"
        )
        prev = digest
    await tamper(pool, *statements)


async def test_rechained_with_plain_sha256_is_named(pool: asyncpg.Pool, schema: str) -> None:
    await fill(pool, AuditLog(schema, KEY), 4)
    await _rechain(pool, schema, KEY.alg, legacy_hash)
    result = await verify(pool, schema)
    assert not result.ok and result.first_bad_seq == 2
    assert "does not match its MAC" in (result.reason or "")


async def test_rechained_as_unkeyed_legacy_records_is_named(pool: asyncpg.Pool, schema: str) -> None:
    await fill(pool, AuditLog(schema, KEY), 4)
    await _rechain(pool, schema, "sha256", legacy_hash)
    result = await verify(pool, schema)
    assert not result.ok and result.first_bad_seq == 2
    assert "unkeyed" in (result.reason or "")


async def test_rechained_with_another_key_is_named(pool: asyncpg.Pool, schema: str) -> None:
    mallory = AuditKey(b"a key of the attacker's own")
    await fill(pool, AuditLog(schema, KEY), 4)

    def forged(seq: int, at: datetime, entry: object, prev: str) -> str:
        return chain_mac(mallory, OFFICE, seq, at, entry, prev)  # type: ignore[arg-type]

    await _rechain(pool, schema, KEY.alg, forged)  # even claiming the real key's id
    result = await verify(pool, schema)
    assert not result.ok and result.first_bad_seq == 2 and "does not match its MAC" in (result.reason or "")
    await _rechain(pool, schema, mallory.alg, forged)
    result = await verify(pool, schema)
    assert not result.ok and result.first_bad_seq == 2 and "another key" in (result.reason or "")


async def test_a_dropped_chain_or_audit_log_is_named_by_its_anchors(pool: asyncpg.Pool, schema: str) -> None:
    await fill(pool, AuditLog(schema, KEY), 3)
    await fill(pool, AuditLog(schema, KEY), 2, "office-b")
    anchors = [await anchor_now(pool, schema), await anchor_now(pool, schema, "office-b")]
    await tamper(pool, f"DELETE FROM {schema}.audit_log WHERE chain = 'office-b'")
    result = await verify(pool, schema, anchors)
    assert [(b.chain, b.seq) for b in result.breaks] == [("office-b", 1)]
    assert "records 1..2 are missing" in (result.reason or "")
    await tamper(pool, f"DROP TABLE {schema}.audit_log")
    result = await verify(pool, schema, anchors)
    assert [(b.chain, b.seq) for b in result.breaks] == [(OFFICE, 1), ("office-b", 1)]
    assert "audit log is gone (anchored up to record 3)" in (result.reason or "")
