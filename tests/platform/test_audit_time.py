"""An audit record's time cannot be forged: `audit_append`, called by the service's own login role
with a correct seq, link and MAC (what a compromised service holding the key could make), refuses a
`recorded_at` farther from the database's clock than the schema's audit clock tolerance
(`audit_settings.clock_tolerance`, the owner's), and one earlier than its chain's last record.
Honest appends pass and verify; a schema that already has audit records migrates cleanly."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from shared.audit import AuditEntry, AuditLog, verify_schema
from shared.audit.records import chain_mac
from shared.eventstore.migrations import BASE_MIGRATIONS, discover
from tests.platform.test_audit_log import KEY, entry
from tests.roles import provision_schema, provisioned_schema

OFFICE = "office-t"


@pytest.fixture
async def service_schema(admin_pool: asyncpg.Pool) -> AsyncIterator[str]:
    """An intake schema migrated as the owner and granted to qyzmet_intake."""
    async with provisioned_schema(admin_pool, "intake", "tt") as name:
        yield name


async def append_at(
    conn: asyncpg.Connection, schema: str, recorded_at: datetime, chain: str = OFFICE
) -> None:
    """Call `audit_append` directly with the chain's head, a MAC made with the key and a time of the
    caller's choosing; raises what the database raises."""
    seq, prev = await AuditLog(schema, KEY).head(conn, chain)
    record = entry(seq + 1, office=chain)
    mac = chain_mac(KEY, chain, seq + 1, recorded_at, record, prev)
    refused = await conn.fetchrow(
        f"SELECT head_seq FROM {schema}.audit_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
        " $13, $14)",
        chain, seq + 1, prev, recorded_at, record.actor, record.role, record.office, record.action,
        record.subject, record.details, record.correlation_id, record.outcome, KEY.alg, mac,
    )  # fmt: skip
    assert refused is None, f"not inserted: the head is {refused['head_seq']}"


async def append_before_0007(conn: asyncpg.Connection, schema: str, chain: str, record: AuditEntry) -> None:
    """What the code before migration 0007 did: the head's seq and MAC only, any time."""
    seq, prev = await AuditLog(schema, KEY).head(conn, chain)
    at = datetime.now(UTC)
    mac = chain_mac(KEY, chain, seq + 1, at, record, prev)
    refused = await conn.fetchrow(
        f"SELECT head_seq, head_hash FROM {schema}.audit_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
        " $12, $13, $14)",
        chain, seq + 1, prev, at, record.actor, record.role, record.office, record.action, record.subject,
        record.details, record.correlation_id, record.outcome, KEY.alg, mac,
    )  # fmt: skip
    assert refused is None


async def count(conn: asyncpg.Connection, schema: str) -> int:
    return int(await conn.fetchval(f"SELECT count(*) FROM {schema}.audit_log"))


async def test_the_service_role_appends_an_honest_record(
    intake_pool: asyncpg.Pool, service_schema: str
) -> None:
    async with intake_pool.acquire() as conn:
        await AuditLog(service_schema, KEY).append(conn, entry(1, office=OFFICE))
        await append_at(conn, service_schema, datetime.now(UTC))
        result = await verify_schema(conn, service_schema, KEY)
    assert result.ok and result.checked == 2


@pytest.mark.parametrize(
    ("shift", "why"),
    [
        (timedelta(hours=-1), "back-dated"),
        (timedelta(days=1), "far future"),
        (timedelta(seconds=-90), "minutes late"),
    ],
)
async def test_a_time_far_from_the_database_clock_is_refused(
    intake_pool: asyncpg.Pool, service_schema: str, shift: timedelta, why: str
) -> None:
    async with intake_pool.acquire() as conn:
        await AuditLog(service_schema, KEY).append(conn, entry(1, office=OFFICE))
        with pytest.raises(asyncpg.RaiseError, match=r"recorded_at .* clock tolerance"):
            await append_at(conn, service_schema, datetime.now(UTC) + shift)
        with pytest.raises(asyncpg.RaiseError, match=r"recorded_at .* clock tolerance"):
            await append_at(conn, service_schema, datetime.now(UTC) + shift, chain="office-new")
        assert await count(conn, service_schema) == 1, why
        assert (await verify_schema(conn, service_schema, KEY)).ok


async def test_a_time_earlier_than_the_chain_head_is_refused(
    intake_pool: asyncpg.Pool, service_schema: str
) -> None:
    async with intake_pool.acquire() as conn:
        await AuditLog(service_schema, KEY).append(conn, entry(1, office=OFFICE))
        head_at = await conn.fetchval(f"SELECT recorded_at FROM {service_schema}.audit_log")
        with pytest.raises(asyncpg.RaiseError, match=r"earlier than .* last record"):
            await append_at(conn, service_schema, head_at - timedelta(seconds=1))  # within the tolerance
        await append_at(conn, service_schema, head_at)  # the same moment is not going back
        assert await count(conn, service_schema) == 2
        assert (await verify_schema(conn, service_schema, KEY)).ok


async def test_the_tolerance_is_the_owners_setting(
    intake_pool: asyncpg.Pool, admin_pool: asyncpg.Pool, service_schema: str
) -> None:
    async with intake_pool.acquire() as conn:
        tolerance = await conn.fetchval(f"SELECT clock_tolerance FROM {service_schema}.audit_settings")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(f"UPDATE {service_schema}.audit_settings SET clock_tolerance = '1 day'")
    assert timedelta(0) < tolerance <= timedelta(minutes=1)
    async with admin_pool.acquire() as admin:
        await admin.execute(f"UPDATE {service_schema}.audit_settings SET clock_tolerance = '2 hours'")
    async with intake_pool.acquire() as conn:
        await append_at(conn, service_schema, datetime.now(UTC) - timedelta(hours=1))
        assert (await verify_schema(conn, service_schema, KEY)).ok


async def test_an_append_follows_a_head_a_little_ahead_of_this_clock(
    intake_pool: asyncpg.Pool, service_schema: str
) -> None:
    """Another host's clock runs a few seconds ahead (within the tolerance) and appended last: this
    process's append takes the head's time rather than go back before it."""
    log = AuditLog(service_schema, KEY)
    async with intake_pool.acquire() as conn:
        await log.append(conn, entry(1, office=OFFICE))
        await append_at(conn, service_schema, datetime.now(UTC) + timedelta(seconds=3))
        await log.append(conn, entry(3, office=OFFICE))  # its head (seq 1) is stale: told seq 2
        await log.append(conn, entry(4, office=OFFICE))  # its head is right
        times = [r["recorded_at"] for r in await conn.fetch(
            f"SELECT recorded_at FROM {service_schema}.audit_log ORDER BY seq"
        )]  # fmt: skip
        result = await verify_schema(conn, service_schema, KEY)
    assert result.ok and result.checked == 4
    assert times == sorted(times) and times[2] >= times[1]


async def test_a_schema_with_audit_records_migrates_and_its_chains_go_on(
    intake_pool: asyncpg.Pool, admin_pool: asyncpg.Pool
) -> None:
    """A schema at migration 0006 with keyed records (appended as the administrator) is handed to
    the owner, migrated and granted; its role appends on, and every chain verifies."""
    name = f"tt_{uuid.uuid4().hex[:12]}"
    before = [m for m in discover(BASE_MIGRATIONS) if m.name < "0007"]
    try:
        async with admin_pool.acquire() as admin:
            await admin.execute(f"CREATE SCHEMA {name}")
            await admin.execute(
                f"CREATE TABLE {name}.schema_migrations (version text PRIMARY KEY,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            for migration in before:
                await admin.execute(migration.sql.replace("{schema}", name))
                await admin.execute(
                    f"INSERT INTO {name}.schema_migrations (version) VALUES ($1)", migration.version
                )
            for i, chain in enumerate(("-", OFFICE, OFFICE)):
                await append_before_0007(admin, name, chain, entry(i, office=None if chain == "-" else chain))
        await provision_schema(admin_pool, "intake", name)
        async with intake_pool.acquire() as conn:
            await AuditLog(name, KEY).append(conn, entry(4, office=OFFICE))
            await AuditLog(name, KEY).append(conn, entry(5, office=None))
            with pytest.raises(asyncpg.RaiseError, match="clock tolerance"):
                await append_at(conn, name, datetime.now(UTC) - timedelta(hours=1))
            result = await verify_schema(conn, name, KEY)
    finally:
        async with admin_pool.acquire() as admin:
            await admin.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
    assert result.ok and result.checked == 5
    assert [(c.chain, c.head_seq) for c in result.chains] == [("-", 2), (OFFICE, 3)]
