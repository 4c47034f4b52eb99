"""`qyzmet db setup`: the roles of least privilege on a PostgreSQL, every schema migrated as the owner.

With the administrator's `DATABASE_URL` (a superuser, or a CREATEROLE role): makes
`qyzmet_owner`, `qyzmet_catalog_reader` and one login role per installed service, migrates the
catalog's schema and every service schema as the owner, and grants each login role its own
schema (`shared.db.grants`). A service's role and password come from `<SERVICE>_DATABASE_URL`
when it is set (docker-compose, production: choose the passwords there), else `qyzmet_<service>`
with a password derived from `QYZMET_DB_ROLE_SECRET` / `<data dir>/db_role_secret`. Prints the
`export <SERVICE>_DATABASE_URL=...` lines the services connect with. Safe to run again, and from
several places at once.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from shared.cli import checked_database_url

if TYPE_CHECKING:  # the database, catalog and services' code loads when a command runs, not for `--help`
    import asyncpg

    from shared.runtime.registry import ServicePlugin
    from shared.settings import PlatformSettings

CATALOG_SCHEMA = "catalog"
"""`shared.catalog.store.CATALOG_SCHEMA`, named without importing the catalog (a test keeps them equal)."""


async def setup_databases(
    admin_url: str,
    plugins: Sequence[ServicePlugin],
    settings: PlatformSettings,
    env: Mapping[str, str] | None = None,
    *,
    catalog_schema: str = CATALOG_SCHEMA,
) -> dict[str, str]:
    """Roles, the catalog and every service schema ready (module docstring); returns
    `<SERVICE>_DATABASE_URL` -> the URL that service connects with."""
    import asyncio

    from shared.catalog.store import MIGRATIONS as CATALOG_MIGRATIONS
    from shared.db.grants import grant_catalog_readers, migrate_as_owner
    from shared.db.pool import connect
    from shared.db.roles import ensure_owner
    from shared.runtime.database import (
        database_url_variable,
        local_login,
        login_of,
        provision_service,
        with_login,
    )

    values = os.environ if env is None else env
    urls: dict[str, str] = {}
    admin = await connect(admin_url)
    try:
        await _require_administrator(admin)
        await ensure_owner(admin)
        await migrate_as_owner(admin, catalog_schema, CATALOG_MIGRATIONS)
        await grant_catalog_readers(admin, catalog_schema)
        with_database = [p for p in plugins if p.schema is not None]
        logins = {}
        for plugin in with_database:
            given = values.get(database_url_variable(plugin.name), "").strip()
            logins[plugin.name] = login_of(given) if given else local_login(plugin.name, settings, values)
            urls[database_url_variable(plugin.name)] = given or with_login(admin_url, logins[plugin.name])

        async def provision(plugin: ServicePlugin) -> None:  # the services at once, one connection each
            conn = await connect(admin_url)
            try:
                await provision_service(
                    conn,
                    plugin.schema_name(values),
                    plugin.migrations,
                    logins[plugin.name],
                    reads_catalog=plugin.reads_catalog,
                    catalog_schema=catalog_schema,
                )
            finally:
                await conn.close()

        await asyncio.gather(*(provision(plugin) for plugin in with_database))
    finally:
        await admin.close()
    return urls


class NotAnAdministrator(SystemExit):
    pass


async def _require_administrator(conn: asyncpg.Connection) -> None:
    """Refuse early, saying why, when DATABASE_URL's role can make no roles."""
    row = await conn.fetchrow("SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user")
    if row is None or not (row["rolsuper"] or row["rolcreaterole"]):
        raise NotAnAdministrator(
            "qyzmet: DATABASE_URL must name a superuser or a role with CREATEROLE (it makes the"
            " owner and the services' login roles); give the services their own <SERVICE>_DATABASE_URL"
            " once an administrator has run `qyzmet db setup`"
        )


def _setup(args: argparse.Namespace) -> int:
    import asyncio

    from shared.runtime.database import login_of
    from shared.runtime.registry import registered_services
    from shared.settings import PlatformSettings

    settings = PlatformSettings()
    admin_url = checked_database_url(
        settings,
        "qyzmet: DATABASE_URL (the administrator) is not set and no running system was found"
        ' (run `eval "$(qyzmet infra up)"`)',
    )
    if admin_url is None:
        return 2
    plugins = registered_services()
    urls = asyncio.run(setup_databases(admin_url, plugins, settings))
    for variable, url in urls.items():
        print(f"export {variable}={shlex.quote(url)}")
    roles = ", ".join(login_of(url).role for url in urls.values())
    print(f"qyzmet: roles ready ({roles}); schemas migrated as qyzmet_owner", file=sys.stderr)
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("db", help="database roles of least privilege and migrations")
    commands = parser.add_subparsers(dest="db_command", required=True)
    setup = commands.add_parser(
        "setup",
        help="make the owner and per-service login roles, migrate every schema as the owner"
        " (DATABASE_URL: a superuser or CREATEROLE role); prints the services' export lines",
    )
    setup.set_defaults(handler=_setup)


def least_privilege_environment(
    admin_url: str, plugins: Sequence[ServicePlugin], env: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """The environment of a run's processes: the roles and schemas made ready with the
    administrator's URL; then the environment every process shares (no `DATABASE_URL`, no
    service's URL: the processes never hold the administrator's credentials, nor another
    service's), and per process its own service's `<SERVICE>_DATABASE_URL`."""
    import asyncio

    from shared.runtime.database import database_url_variable
    from shared.settings import PlatformSettings

    settings = PlatformSettings(QYZMET_DATA_DIR=env.get("QYZMET_DATA_DIR", ".data"))
    urls = asyncio.run(setup_databases(admin_url, plugins, settings, env))
    shared = {k: v for k, v in env.items() if k != "DATABASE_URL" and k not in urls}
    own = {
        process: {variable: urls[variable]}
        for plugin in plugins
        if (variable := database_url_variable(plugin.name)) in urls
        for process in plugin.processes()
    }
    return shared, own
