"""`qyzmet db setup` as the README's second kind of administrator: a role with CREATEROLE (no
superuser) that owns the database. On PostgreSQL 16+ the role that creates `qyzmet_owner` holds a
membership in it with ADMIN only (no SET, no INHERIT), which must not count as "may become the
owner": the embedded PostgreSQL 18 (a fresh cluster) and the shared server (PostgreSQL 15 here),
each with a database made for the test and dropped after it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from shared.cli.db import setup_databases
from shared.db.pool import connect
from shared.infra import InfraError, PostgresHandle, start_embedded_postgres
from shared.runtime.registry import ServicePlugin
from shared.settings import PlatformSettings

INTAKE = ("services.intake.adapters.sql",)


def _with(url: str, *, user: str, database: str) -> str:
    """`url` with another user (no password: trust, as both test servers allow) and database."""
    rest = url.split("://", 1)[1].split("@", 1)[1]
    return f"postgresql://{user}@{rest.split('/', 1)[0]}/{database}"


async def _admin_owning_a_database(superuser_url: str, admin: str, database: str) -> str:
    """The README's setup: `CREATE ROLE admin LOGIN CREATEROLE; CREATE DATABASE … OWNER admin`."""
    conn = await connect(superuser_url)
    try:
        await conn.execute(f"CREATE ROLE {admin} LOGIN CREATEROLE")
        await conn.execute(f"CREATE DATABASE {database} OWNER {admin}")
    finally:
        await conn.close()
    return _with(superuser_url, user=admin, database=database)


async def _drop(superuser_url: str, database: str, roles: tuple[str, ...]) -> None:
    conn = await connect(superuser_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        for role in roles:
            if await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
                await conn.execute(f"DROP OWNED BY {role}")
                await conn.execute(f"DROP ROLE {role}")
    finally:
        await conn.close()


@pytest.fixture
def embedded_pg18(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresHandle]:
    try:
        handle = start_embedded_postgres(tmp_path_factory.mktemp("pg18") / "pg")
    except (InfraError, OSError) as exc:
        pytest.skip(f"the embedded PostgreSQL 18 could not start here: {exc}")
    try:
        yield handle
    finally:
        handle.stop()


async def test_db_setup_by_a_createrole_admin_owning_the_database_on_the_embedded_pg18(
    embedded_pg18: PostgresHandle, tmp_path: Path
) -> None:
    """The README's repro, end to end: `qyzmet db setup` (every installed service) on a fresh cluster."""
    conn = await asyncpg.connect(embedded_pg18.url)
    try:
        assert int(await conn.fetchval("SHOW server_version_num")) >= 160000
    finally:
        await conn.close()
    admin_url = await _admin_owning_a_database(embedded_pg18.url, "admin", "qyzmet_app")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.endswith("DATABASE_URL") and not key.startswith("QYZMET_")
    }
    env |= {
        "DATABASE_URL": admin_url,
        "QYZMET_DATA_DIR": str(tmp_path),
        "QYZMET_DB_ROLE_SECRET": "a-test-secret",
    }
    done = await asyncio.to_thread(
        subprocess.run,
        [str(Path(sys.executable).with_name("qyzmet")), "db", "setup"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "INTAKE_DATABASE_URL" in done.stdout
    conn = await asyncpg.connect(admin_url)
    try:
        owners = await conn.fetch(
            "SELECT nspname, pg_get_userbyid(nspowner) AS owner FROM pg_namespace"
            " WHERE nspname IN ('catalog', 'intake')"
        )
        assert {row["nspname"]: row["owner"] for row in owners} == {
            "catalog": "qyzmet_owner",
            "intake": "qyzmet_owner",
        }
        assert not await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    finally:
        await conn.close()


async def test_db_setup_by_a_createrole_admin_owning_the_database_on_the_shared_server(
    database_url: str, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    admin, database, name = f"adm_{tag}", f"db_{tag}", f"t{tag}"
    plugins = [ServicePlugin(name=name, api="x:main", schema=f"lp_{tag}", migrations=INTAKE)]
    try:
        admin_url = await _admin_owning_a_database(database_url, admin, database)
        urls = await setup_databases(
            admin_url,
            plugins,
            PlatformSettings(QYZMET_DATA_DIR=str(tmp_path)),
            {"QYZMET_DB_ROLE_SECRET": "a-test-secret"},
            catalog_schema=f"cat_{tag}",
        )
        conn = await connect(urls[f"{name.upper()}_DATABASE_URL"])
        try:
            assert await conn.fetchval(f"SELECT count(*) FROM lp_{tag}.events") == 0
        finally:
            await conn.close()
    finally:
        await _drop(database_url, database, (f"qyzmet_{name}", admin))
