"""Least privilege: a service's own login role may append to its events and audit log and keep its
projections, and PostgreSQL refuses it every way round the append-only rule (edit, delete,
truncate, disabling the trigger, `session_replication_role = replica`) and every touch of another
service's schema. Migrations run as `qyzmet_owner`; roles are made idempotently, also by several
sessions at once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest

from shared.db.pool import connect
from shared.db.roles import OWNER_ROLE, ServiceLogin
from shared.eventstore import EventStore, NewEvent, apply_migrations
from shared.runtime.database import provision_service, with_login

INTAKE = ("services.intake.adapters.sql",)
DECISION = ("services.decision.adapters.sql",)


@dataclass
class Provisioned:
    schema: str
    other: str
    login: ServiceLogin
    conn: asyncpg.Connection
    """Connected as the service's login role."""


async def _drop_role(admin: asyncpg.Connection, role: str) -> None:
    await admin.execute(f"DROP OWNED BY {role}")
    await admin.execute(f"DROP ROLE IF EXISTS {role}")


@pytest.fixture
async def provisioned(database_url: str) -> AsyncIterator[Provisioned]:
    """An intake schema granted to a fresh login role, and a decision schema granted to another
    (unique roles per test: roles are cluster-wide, other sessions use the real ones)."""
    tag = uuid.uuid4().hex[:10]
    schema, other = f"lp_{tag}", f"lp_{tag}_other"
    login, other_login = ServiceLogin(f"qyzmet_t{tag}", f"pw-{tag}"), ServiceLogin(f"qyzmet_t{tag}_o")
    admin = await connect(database_url)
    try:
        await provision_service(admin, schema, INTAKE, login, reads_catalog=False)
        await provision_service(admin, other, DECISION, other_login, reads_catalog=False)
        conn = await connect(with_login(database_url, login))
        try:
            yield Provisioned(schema, other, login, conn)
        finally:
            await conn.close()
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; DROP SCHEMA IF EXISTS {other} CASCADE")
        for role in (login.role, other_login.role):
            await _drop_role(admin, role)
        await admin.close()


async def _append_and_audit(conn: asyncpg.Connection, schema: str) -> None:
    """What a service does on every command: append an event and an audit record in one unit."""
    from shared.audit import AuditEntry, AuditLog

    async with conn.transaction():
        await EventStore(schema).append(conn, f"app-{uuid.uuid4()}", [NewEvent("Probe", {"n": 1})], 0)
        await AuditLog(schema).append(
            conn, AuditEntry(actor="clerk-1", role="clerk", action="probe", subject="app-1")
        )


async def test_the_role_appends_events_and_audit_records_and_keeps_its_projections(
    provisioned: Provisioned,
) -> None:
    conn, schema = provisioned.conn, provisioned.schema
    assert await conn.fetchval("SELECT current_user") == provisioned.login.role
    await _append_and_audit(conn, schema)
    assert await conn.fetchval(f"SELECT count(*) FROM {schema}.events") == 1
    assert await conn.fetchval(f"SELECT count(*) FROM {schema}.audit_log") == 1
    # Projections and bookkeeping: insert, update, delete.
    await conn.execute(
        f"INSERT INTO {schema}.projection_checkpoints (projection, txid, position)"
        " VALUES ('probe', '1'::xid8, 1)"
    )
    await conn.execute(f"UPDATE {schema}.projection_checkpoints SET position = 2 WHERE projection = 'probe'")
    await conn.execute(f"INSERT INTO {schema}.inbox (consumer, event_id) VALUES ('probe', $1)", uuid.uuid4())
    assert await conn.fetchval(f"DELETE FROM {schema}.inbox WHERE consumer = 'probe' RETURNING 1") == 1
    async with conn.transaction():  # its audit relay leads by this row lock (no other role may take it)
        assert await conn.fetchval(f"SELECT singleton FROM {schema}.audit_relay_lock FOR UPDATE SKIP LOCKED")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {s}.events SET data = '{{}}'::jsonb",
        "DELETE FROM {s}.events",
        "TRUNCATE {s}.events",
        "UPDATE {s}.audit_log SET actor = 'someone else'",
        "DELETE FROM {s}.audit_log",
        "TRUNCATE {s}.audit_log",
        "INSERT INTO {s}.audit_log (chain, seq, recorded_at, actor, role, action, subject, prev_hash,"
        " hash, alg) VALUES ('-', 2, now(), 'x', 'x', 'x', 'x', 'x', 'x', 'sha256')",
        "SELECT * FROM {s}.audit_chains FOR UPDATE",
        "SELECT * FROM {o}.audit_relay_lock FOR UPDATE SKIP LOCKED",
        "UPDATE {s}.audit_legacy_boundary SET last_seq = 1000",
        "INSERT INTO {s}.audit_legacy_boundary (chain, last_seq) VALUES ('x', 1000)",
        "UPDATE {s}.audit_settings SET clock_tolerance = '1 day'",
        "DELETE FROM {s}.audit_settings",
        "ALTER TABLE {s}.audit_log DISABLE TRIGGER ALL",
        "ALTER TABLE {s}.events DISABLE TRIGGER USER",
        "DROP TABLE {s}.audit_log",
        "SET session_replication_role = replica",
        "SET LOCAL session_replication_role = replica",
        f"SET ROLE {OWNER_ROLE}",
        "CREATE TABLE {s}.shadow (id int)",
        "CREATE TRIGGER t BEFORE INSERT ON {s}.events"
        " FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()",
        "SELECT count(*) FROM {o}.events",
        "INSERT INTO {o}.inbox (consumer, event_id) VALUES ('x', gen_random_uuid())",
        "UPDATE {o}.events SET data = '{{}}'::jsonb",
        "DELETE FROM {o}.audit_log",
        "TRUNCATE {o}.events",
        "CREATE TABLE {o}.shadow (id int)",
        "DROP SCHEMA {o} CASCADE",
        "ALTER ROLE CURRENT_USER SUPERUSER",
        "ALTER ROLE CURRENT_USER BYPASSRLS",
    ],
)
async def test_postgresql_refuses_the_role_every_tampering(provisioned: Provisioned, statement: str) -> None:
    conn, schema = provisioned.conn, provisioned.schema
    await _append_and_audit(conn, schema)
    sql = statement.format(s=schema, o=provisioned.other)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with conn.transaction():
            await conn.execute(sql)
    assert await conn.fetchval(f"SELECT count(*) FROM {schema}.events") == 1
    assert await conn.fetchval(f"SELECT count(*) FROM {schema}.audit_log") == 1


async def test_the_role_is_no_superuser_and_owns_nothing(provisioned: Provisioned, database_url: str) -> None:
    role = await provisioned.conn.fetchrow(
        "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolcanlogin"
        " FROM pg_roles WHERE rolname = current_user"
    )
    assert dict(role) == {
        "rolsuper": False,
        "rolcreatedb": False,
        "rolcreaterole": False,
        "rolreplication": False,
        "rolbypassrls": False,
        "rolcanlogin": True,
    }
    assert not await provisioned.conn.fetchval("SELECT pg_has_role(current_user, $1, 'MEMBER')", OWNER_ROLE)
    owners = await provisioned.conn.fetch(
        "SELECT DISTINCT pg_get_userbyid(c.relowner) AS owner FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1",
        provisioned.schema,
    )
    assert [row["owner"] for row in owners] == [OWNER_ROLE]


async def test_a_schema_made_before_the_roles_is_handed_to_the_owner(
    database_url: str, pool: asyncpg.Pool
) -> None:
    """An existing installation migrated by the superuser: provisioning hands everything over."""
    tag = uuid.uuid4().hex[:10]
    schema, login = f"lp_{tag}", ServiceLogin(f"qyzmet_t{tag}")
    async with pool.acquire() as conn:
        await apply_migrations(conn, schema, *INTAKE)
    admin = await connect(database_url)
    try:
        assert await provision_service(admin, schema, INTAKE, login, reads_catalog=False) == []
        owners = await admin.fetch(
            "SELECT DISTINCT pg_get_userbyid(c.relowner) AS owner FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1"
            " UNION SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = $1",
            schema,
        )
        assert {row["owner"] for row in owners} == {OWNER_ROLE}
        role = await connect(with_login(database_url, login))
        try:
            await _append_and_audit(role, schema)
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await role.execute(f"ALTER TABLE {schema}.audit_log DISABLE TRIGGER ALL")
        finally:
            await role.close()
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await _drop_role(admin, login.role)
        await admin.close()


async def test_several_sessions_make_the_same_roles_at_once(database_url: str) -> None:
    """Roles are cluster-wide: start-ups racing to create and grant them (and to migrate one
    schema) all succeed, and exactly one of them migrates."""
    tag = uuid.uuid4().hex[:10]
    login = ServiceLogin(f"qyzmet_t{tag}", "secret")
    schemas = [f"lp_{tag}_{i}" for i in range(4)]
    same = f"lp_{tag}_same"
    admins = [await connect(database_url) for _ in schemas]
    try:
        first = await asyncio.gather(
            *(
                provision_service(admin, schema, INTAKE, login, reads_catalog=True)
                for admin, schema in zip(admins, schemas, strict=True)
            )
        )
        assert all(first)
        racing = await asyncio.gather(
            *(provision_service(admin, same, INTAKE, login, reads_catalog=True) for admin in admins)
        )
        assert sorted(bool(applied) for applied in racing) == [False, False, False, True]
        role = await connect(with_login(database_url, login))
        try:
            for schema in [*schemas, same]:
                await _append_and_audit(role, schema)
        finally:
            await role.close()
    finally:
        for schema in [*schemas, same]:
            await admins[0].execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await _drop_role(admins[0], login.role)
        for admin in admins:
            await admin.close()


async def test_audit_append_is_the_only_way_in_and_refuses_a_forged_seq(provisioned: Provisioned) -> None:
    """The role may not INSERT into audit_log; `audit_append` (SECURITY DEFINER, owned by the
    owner, search_path pinned) inserts only the chain's next record, and never an unkeyed one."""
    conn, schema = provisioned.conn, provisioned.schema
    await _append_and_audit(conn, schema)
    function = await conn.fetchrow(
        "SELECT p.prosecdef, pg_get_userbyid(p.proowner) AS owner, p.proconfig FROM pg_proc p"
        " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 AND p.proname = 'audit_append'",
        schema,
    )
    assert function["prosecdef"] and function["owner"] == OWNER_ROLE
    assert any(setting.startswith("search_path=") for setting in function["proconfig"] or [])
    head_seq, head_hash = await conn.fetchrow(f"SELECT seq, hash FROM {schema}.audit_log WHERE chain = '-'")
    append = (
        f"SELECT head_seq, head_hash FROM {schema}.audit_append('-', $1, $2, now(), 'mallory', 'clerk',"
        " NULL, 'forged', 'x', '{}'::jsonb, NULL, 'ok', $3, $4)"
    )
    for seq, prev in ((head_seq + 5, head_hash), (head_seq + 1, "0" * 64), (head_seq, head_hash)):
        refused = await conn.fetchrow(append, seq, prev, "hmac-sha256:forged", "f" * 64)
        assert (refused["head_seq"], refused["head_hash"]) == (head_seq, head_hash)  # nothing inserted
    with pytest.raises(asyncpg.RaiseError, match="unkeyed"):
        await conn.fetchrow(append, head_seq + 1, head_hash, "sha256", "f" * 64)
    assert await conn.fetchval(f"SELECT count(*) FROM {schema}.audit_log") == 1
