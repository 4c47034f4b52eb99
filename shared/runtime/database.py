"""How a service process reaches PostgreSQL: as its own login role, never as the administrator.

- `<SERVICE>_DATABASE_URL` (e.g. `INTAKE_DATABASE_URL`) set: the process connects with it and
  applies no migration (its role may not); it waits until `qyzmet db setup` (or `qyzmet run`)
  has migrated its schema. Production and docker-compose work this way.
- only `DATABASE_URL` (an administrator: a superuser, or a CREATEROLE role that may become
  `qyzmet_owner`): the process makes its login role `qyzmet_<service>` (password derived from
  `QYZMET_DB_ROLE_SECRET` or `<data dir>/db_role_secret`), migrates its schema as the owner with
  a short administrator connection, and then connects as the login role (`qyzmet serve` on a
  developer's machine, tests).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import asyncpg
import structlog

from shared.db.grants import grant_catalog_readers, prepare_service_schema
from shared.db.pool import connect
from shared.db.roles import (
    ServiceLogin,
    derived_password,
    ensure_login,
    ensure_owner,
    local_role_secret,
    service_role,
)
from shared.eventstore.migrations import BASE_MIGRATIONS, discover
from shared.settings import PlatformSettings

log = structlog.get_logger(__name__)

ROLE_SECRET_VARIABLE = "QYZMET_DB_ROLE_SECRET"  # noqa: S105 (a variable name)
DEFAULT_CATALOG_SCHEMA = "catalog"

T = TypeVar("T")


class DatabaseNotConfigured(RuntimeError):
    pass


def database_url_variable(service: str) -> str:
    """The variable holding a service's own connection URL: `<SERVICE>_DATABASE_URL`."""
    return f"{service.upper()}_DATABASE_URL"


def with_login(url: str, login: ServiceLogin) -> str:
    """`url` with its user (and password) replaced by `login`'s."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    userinfo = quote(login.role, safe="")
    if login.password is not None:
        userinfo += ":" + quote(login.password, safe="")
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k not in ("user", "password")])
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}", query=query))


def login_of(url: str) -> ServiceLogin:
    """The role and password a URL connects with."""
    parts = urlsplit(url)
    if not parts.username:
        raise DatabaseNotConfigured(f"{parts.scheme}://…{parts.path} names no user")
    password = unquote(parts.password) if parts.password is not None else None
    return ServiceLogin(unquote(parts.username), password)


def local_login(
    service: str, settings: PlatformSettings, env: Mapping[str, str] | None = None
) -> ServiceLogin:
    """`qyzmet_<service>` with the password derived from this installation's role secret."""
    values = os.environ if env is None else env
    role = service_role(service)
    secret = values.get(ROLE_SECRET_VARIABLE) or local_role_secret(settings.data_dir)
    return ServiceLogin(role, derived_password(secret, role))


async def provision_service(
    admin: asyncpg.Connection,
    schema: str,
    migrations: tuple[str, ...],
    login: ServiceLogin,
    *,
    reads_catalog: bool,
    catalog_schema: str = DEFAULT_CATALOG_SCHEMA,
) -> list[str]:
    """The owner and `login`'s role exist, `schema` is migrated as the owner and granted to the
    role; catalog readers may read the catalog schema if there is one. Returns versions applied."""
    await ensure_owner(admin)
    await ensure_login(admin, login, reads_catalog=reads_catalog)
    applied = await prepare_service_schema(admin, schema, migrations, login.role)
    if reads_catalog:
        await grant_catalog_readers(admin, catalog_schema)
    return applied


async def when_ready(open_: Callable[[], Awaitable[T]], wait_s: float) -> T:
    """`open_()`'s result, once PostgreSQL answers: a process started while the database restarts
    or fails over waits for it (jittered back-off) instead of exiting; after `wait_s` seconds the
    last error is raised."""
    from shared.service_layer.retry import is_retryable

    started, delay = time.monotonic(), 0.2
    while True:
        try:
            return await open_()
        except Exception as exc:
            if not is_retryable(exc) or time.monotonic() - started + delay > wait_s:
                raise
            log.warning("database not ready, waiting", error=type(exc).__name__, retry_in_s=round(delay, 2))
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, 5.0)


def startup_wait_s() -> float:
    """How long a starting process waits for the database: `QYZMET_DB_STARTUP_WAIT_S`, default 300 s."""
    return float(os.environ.get("QYZMET_DB_STARTUP_WAIT_S", "300"))


async def service_database_url(
    service: str, schema: str, migrations: tuple[str, ...], settings: PlatformSettings
) -> str:
    """The URL this service's process connects with (module docstring); with only the
    administrator's URL, the role and schema are made ready first."""
    own = os.environ.get(database_url_variable(service), "").strip()
    if own:
        return own
    if not settings.database_url:
        raise DatabaseNotConfigured(
            f"neither {database_url_variable(service)} nor DATABASE_URL is set; run"
            ' `eval "$(qyzmet infra up)"` first or use `qyzmet run`, which starts everything'
        )
    from shared.runtime.registry import registered_service

    plugin = registered_service(service)
    login = local_login(service, settings)
    admin_url = settings.database_url
    admin = await when_ready(lambda: connect(admin_url), startup_wait_s())
    try:
        await provision_service(
            admin, schema, migrations, login, reads_catalog=plugin is not None and plugin.reads_catalog
        )
    finally:
        await admin.close()
    return with_login(settings.database_url, login)


async def migrations_missing(pool: asyncpg.Pool, schema: str, migrations: tuple[str, ...]) -> list[str]:
    """The versions of `schema`'s migrations not applied yet (all of them if the role may not
    even see the schema)."""
    wanted = [m.version for m in discover(BASE_MIGRATIONS)]
    for package in migrations:
        wanted.extend(m.version for m in discover(package))
    try:
        async with pool.acquire() as conn:
            rows = await conn.fetch(f"SELECT version FROM {schema}.schema_migrations")
    except (asyncpg.InsufficientPrivilegeError, asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError):
        return wanted
    done = {row["version"] for row in rows}
    return [version for version in wanted if version not in done]


async def await_migrations(
    pool: asyncpg.Pool, schema: str, migrations: tuple[str, ...], wait_s: float | None = None
) -> None:
    """Wait (up to `QYZMET_DB_STARTUP_WAIT_S`) until `qyzmet db setup` has migrated `schema`."""
    budget = startup_wait_s() if wait_s is None else wait_s
    started = time.monotonic()
    while missing := await migrations_missing(pool, schema, migrations):
        if time.monotonic() - started > budget:
            raise DatabaseNotConfigured(
                f"schema {schema} lacks {len(missing)} migrations (first: {missing[0]});"
                " run `qyzmet db setup` with the administrator's DATABASE_URL"
            )
        log.warning("schema not migrated yet, waiting", schema=schema, missing=len(missing))
        await asyncio.sleep(1.0)
