"""A schema whose audit log predates keyed chains: migration 0004 keeps its records (unkeyed,
verified with plain SHA-256 only when accepted), and the keyed chain continues from them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from shared.audit import AuditLog, verify_schema
from shared.audit.records import GENESIS_HASH, legacy_hash
from shared.eventstore import apply_migrations
from shared.eventstore.migrations import BASE_MIGRATIONS, discover
from tests.platform.test_audit_log import KEY, entry


@pytest.fixture
async def old_schema(pool: asyncpg.Pool) -> AsyncIterator[str]:
    """A schema at migration 0003 with three audit records of the old, unkeyed kind."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    async with pool.acquire() as conn:
        await conn.execute(f"CREATE SCHEMA {name}")
        await conn.execute(
            f"CREATE TABLE {name}.schema_migrations (version text PRIMARY KEY,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for migration in discover(BASE_MIGRATIONS)[:3]:
            await conn.execute(migration.sql.replace("{schema}", name))
            await conn.execute(
                f"INSERT INTO {name}.schema_migrations (version) VALUES ($1)", migration.version
            )
        prev = GENESIS_HASH
        for seq in (1, 2, 3):
            old, at = entry(seq, office=f"office-{seq}"), datetime.now(UTC)
            digest = legacy_hash(seq, at, old, prev)
            await conn.execute(
                f"INSERT INTO {name}.audit_log (seq, recorded_at, actor, role, office, action, subject,"
                " details, correlation_id, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
                seq, at, old.actor, old.role, old.office, old.action, old.subject, old.details, None, prev,
                digest,
            )  # fmt: skip
            prev = digest
        await conn.execute(f"UPDATE {name}.audit_head SET seq = 3, hash = $1", prev)
    yield name
    async with pool.acquire() as conn:
        await conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


async def test_old_records_stay_and_the_chain_continues_keyed(pool: asyncpg.Pool, old_schema: str) -> None:
    async with pool.acquire() as conn:
        await apply_migrations(conn, old_schema)
        assert not (await verify_schema(conn, old_schema, KEY)).ok  # unkeyed: refused unless accepted
        await AuditLog(old_schema, KEY).append(conn, entry(4, office=None))
        result = await verify_schema(conn, old_schema, KEY, accept_legacy=True)
        head = await conn.fetchval(f"SELECT to_regclass('{old_schema}.audit_head')")
    assert result.ok and result.checked == 4
    assert result.chains[0].legacy == 3 and result.chains[0].head_seq == 4
    assert head is None  # no head row any more: appends are INSERT-only


async def test_an_edited_old_record_is_named(pool: asyncpg.Pool, old_schema: str) -> None:
    async with pool.acquire() as conn:
        await apply_migrations(conn, old_schema)
        await conn.execute(f"ALTER TABLE {old_schema}.audit_log DISABLE TRIGGER audit_log_append_only")
        await conn.execute(f"UPDATE {old_schema}.audit_log SET subject = 'other' WHERE seq = 2")
        result = await verify_schema(conn, old_schema, KEY, accept_legacy=True)
    assert not result.ok and result.first_bad_seq == 2 and "edited" in (result.reason or "")


async def _rewrite_as_legacy(conn: asyncpg.Connection, schema: str, start: int) -> None:
    """As the superuser round the trigger: every '-' record from `start` on recomputed with plain
    SHA-256 (no key needed) and marked unkeyed."""
    records = [r async for r in AuditLog(schema, KEY).records(conn, "-")]
    prev = records[start - 2].hash if start > 1 else GENESIS_HASH
    async with conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        for record in records[start - 1 :]:
            forged = type(record.entry)(**{**record.entry.__dict__, "actor": "mallory"})
            digest = legacy_hash(record.seq, record.recorded_at, forged, prev)
            await conn.execute(
                f"UPDATE {schema}.audit_log SET actor = 'mallory', alg = 'sha256', prev_hash = $1, hash = $2"
                " WHERE chain = '-' AND seq = $3",
                prev, digest, record.seq,
            )  # fmt: skip
            prev = digest


async def test_a_fully_rewritten_unkeyed_chain_is_not_accepted_as_legacy(
    pool: asyncpg.Pool, schema: str
) -> None:
    """A schema that never had unkeyed records: --accept-legacy accepts none of them."""
    async with pool.acquire() as conn:
        for i in range(3):
            await AuditLog(schema, KEY).append(conn, entry(i, office=None))
        await _rewrite_as_legacy(conn, schema, 1)
        result = await verify_schema(conn, schema, KEY, accept_legacy=True)
    assert not result.ok and result.first_bad_seq == 1
    assert "unkeyed" in (result.reason or "") and "legacy boundary" in (result.reason or "")


async def test_legacy_is_accepted_only_below_the_boundary_recorded_at_migration(
    pool: asyncpg.Pool, old_schema: str
) -> None:
    async with pool.acquire() as conn:
        await apply_migrations(conn, old_schema)
        boundary = await conn.fetch(f"SELECT chain, last_seq FROM {old_schema}.audit_legacy_boundary")
        for i in (4, 5):
            await AuditLog(old_schema, KEY).append(conn, entry(i, office=None))
        assert (await verify_schema(conn, old_schema, KEY, accept_legacy=True)).ok
        await _rewrite_as_legacy(conn, old_schema, 2)  # legacy 2..3, and the keyed 4..5 made unkeyed
        result = await verify_schema(conn, old_schema, KEY, accept_legacy=True)
    assert [tuple(row) for row in boundary] == [("-", 3)]
    assert not result.ok and result.first_bad_seq == 4
    assert "above the legacy boundary (3)" in (result.reason or "")
