"""The service tests run the code under test as the service's own login role, as production does
(`shared.runtime.database`): the role `qyzmet_<service>` (password derived from
`QYZMET_DB_ROLE_SECRET` or `<data dir>/db_role_secret`, the same as `qyzmet serve` and `make run`,
so sessions sharing a PostgreSQL agree on it), each test's schema migrated as `qyzmet_owner` by
`provision_service` with the administrator's connection and granted to the role.

Only what must go beyond the role's rights uses the administrator's pool, `admin_pool`: making and
dropping schemas, the administrator's tools (`qyzmet replay`, `params set`), tampering, and reading
another service's schema.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator

import asyncpg

from shared.db.pool import create_pool
from shared.db.roles import OWNER_ROLE, ServiceLogin, ensure_login, ensure_owner, local_role_secret
from shared.runtime.database import (
    DEFAULT_CATALOG_SCHEMA,
    ROLE_SECRET_VARIABLE,
    local_login,
    provision_service,
    with_login,
)
from shared.runtime.registry import ServicePlugin, registered_service
from shared.settings import PlatformSettings


def plugin_of(service: str) -> ServicePlugin:
    plugin = registered_service(service)
    if plugin is None or plugin.schema is None:
        raise LookupError(f"{service} is no installed service with a database")
    return plugin


def role_secret() -> str:
    """The secret the roles' passwords derive from: `QYZMET_DB_ROLE_SECRET`, else the checkout's
    `<data dir>/db_role_secret` (what `make run` and `qyzmet serve` use)."""
    return os.environ.get(ROLE_SECRET_VARIABLE) or local_role_secret(PlatformSettings().data_dir)


def role_secret_env() -> dict[str, str]:
    """For processes a test starts with the administrator's URL (they make their own role, as
    `qyzmet serve` does): this session's role secret, so they set the same password on the
    cluster-wide role and this session's pools can still open connections afterwards."""
    return {ROLE_SECRET_VARIABLE: role_secret()}


def login_for(service: str) -> ServiceLogin:
    """`qyzmet_<service>` with its derived password (as `qyzmet serve` makes it)."""
    return local_login(service, PlatformSettings(), role_secret_env())


async def open_service_pool(database_url: str, admin_pool: asyncpg.Pool, service: str) -> asyncpg.Pool:
    """A pool connected as `service`'s login role (made first if missing; idempotent and safe
    against other sessions making it at the same moment)."""
    login = login_for(service)
    async with admin_pool.acquire() as admin:
        await ensure_owner(admin)
        await ensure_login(admin, login, reads_catalog=plugin_of(service).reads_catalog)
    return await create_pool(with_login(database_url, login), min_size=1, max_size=20)


async def provision_schema(
    admin_pool: asyncpg.Pool, service: str, schema: str, *, catalog_schema: str = DEFAULT_CATALOG_SCHEMA
) -> None:
    """`schema` migrated as the owner with `service`'s migrations and granted to its role (and the
    catalog schema readable, where the service reads one and it exists)."""
    async with admin_pool.acquire() as admin:
        await provision(admin, service, schema, catalog_schema=catalog_schema)


async def provision(
    admin: asyncpg.Connection, service: str, schema: str, *, catalog_schema: str = DEFAULT_CATALOG_SCHEMA
) -> None:
    """`provision_schema` with an administrator's connection of the caller's event loop."""
    plugin = plugin_of(service)
    await provision_service(
        admin,
        schema,
        plugin.migrations,
        login_for(service),
        reads_catalog=plugin.reads_catalog,
        catalog_schema=catalog_schema,
    )


@contextlib.asynccontextmanager
async def provisioned_schema(admin_pool: asyncpg.Pool, service: str, prefix: str) -> AsyncIterator[str]:
    """A fresh schema `<prefix>_<12 hex>` of `service`, provisioned (`provision_schema`) for the
    block and dropped after it."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    await provision_schema(admin_pool, service, name)
    try:
        yield name
    finally:
        async with admin_pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


async def connected_role(pool: asyncpg.Pool) -> tuple[str, bool]:
    """The role `pool` connects as, and whether it is a superuser."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT current_user AS role, rolsuper FROM pg_roles WHERE rolname = current_user"
        )
    assert row is not None
    return row["role"], row["rolsuper"]


async def assert_runs_as(pool: asyncpg.Pool, service: str) -> None:
    """`pool` is `service`'s own login role, not a superuser (the guard of the service fixtures)."""
    role, superuser = await connected_role(pool)
    assert role == f"qyzmet_{service}", f"connected as {role}, not qyzmet_{service}"
    assert not superuser, f"{role} is a superuser"


async def assert_provisioned_as_in_production(pool: asyncpg.Pool, service: str, schema: str) -> None:
    """`pool` is `service`'s role (`assert_runs_as`) and `schema` is as `provision_service` leaves
    it: owned by the owner, readable by the role, its events refused to UPDATE, DELETE, TRUNCATE."""
    await assert_runs_as(pool, service)
    async with pool.acquire() as conn:
        owner = await conn.fetchval(
            "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = $1", schema
        )
        assert owner == OWNER_ROLE, f"{schema} belongs to {owner}"
        await conn.fetchval(f"SELECT count(*) FROM {schema}.events")
        for statement in (
            "UPDATE {}.events SET event_type = event_type",
            "DELETE FROM {}.events",
            "TRUNCATE {}.events",
        ):
            try:
                await conn.execute(statement.format(schema))
            except asyncpg.InsufficientPrivilegeError:
                continue
            raise AssertionError(f"{service}'s role may run {statement.format(schema)!r}")
