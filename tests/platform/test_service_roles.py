"""Services run as their own login roles: `qyzmet db setup` makes one per service with a database
(none for a service without one), and a service started with only the administrator's URL
connects as its role and serves (submission: events, audit record, idempotency key; status
projection) through it."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
import pytest

from services.intake.entrypoints.api import create_app
from shared.cli.db import NotAnAdministrator, setup_databases
from shared.db.grants import prepare_service_schema
from shared.db.pool import connect, create_pool
from shared.db.roles import ServiceLogin, ensure_login, ensure_owner
from shared.runtime.database import DatabaseNotConfigured, await_migrations, with_login
from shared.runtime.registry import ServicePlugin
from shared.settings import PlatformSettings
from tests.intake.conftest import SECRET, auth, unemployed_registration, wait_for
from tests.roles import role_secret

INTAKE = ("services.intake.adapters.sql",)


async def _forget(database_url: str, *schemas: str, roles: tuple[str, ...] = ()) -> None:
    admin = await connect(database_url)
    try:
        for schema in schemas:
            await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        for role in roles:
            await admin.execute(f"DROP OWNED BY {role}")
            await admin.execute(f"DROP ROLE IF EXISTS {role}")
    finally:
        await admin.close()


async def test_db_setup_makes_a_role_per_service_with_a_database(database_url: str, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    name, schema, catalog = f"t{tag}", f"lp_{tag}", f"lp_{tag}_cat"
    plugins = [
        ServicePlugin(name=name, api="x:main", schema=schema, migrations=INTAKE, reads_catalog=True),
        ServicePlugin(name=f"{name}web", api="x:web"),  # no database: no role, no URL
    ]
    settings = PlatformSettings(QYZMET_DATA_DIR=str(tmp_path))
    env = {"QYZMET_DB_ROLE_SECRET": "a-test-secret"}
    try:
        urls = await setup_databases(database_url, plugins, settings, env, catalog_schema=catalog)
        assert list(urls) == [f"{name.upper()}_DATABASE_URL"]
        again = await setup_databases(database_url, plugins, settings, env, catalog_schema=catalog)
        assert again == urls
        conn = await connect(urls[f"{name.upper()}_DATABASE_URL"])
        try:
            assert await conn.fetchval("SELECT current_user") == f"qyzmet_{name}"
            assert await conn.fetchval(f"SELECT count(*) FROM {schema}.events") == 0
            # The catalog's administrator records are readable, its audit log is not.
            assert await conn.fetchval(f"SELECT count(*) FROM {catalog}.parameter_values") == 0
            assert not await conn.fetchval("SELECT has_table_privilege($1, 'SELECT')", f"{catalog}.audit_log")
        finally:
            await conn.close()
    finally:
        await _forget(database_url, schema, catalog, roles=(f"qyzmet_{name}",))


@pytest.fixture
def role_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The session's role secret: qyzmet_intake is cluster-wide, and the other tests' pools
    connect with the password derived from it (tests/roles.py)."""
    monkeypatch.setenv("QYZMET_DB_ROLE_SECRET", role_secret())
    monkeypatch.delenv("INTAKE_DATABASE_URL", raising=False)


@pytest.mark.usefixtures("role_env")
async def test_intake_started_with_the_administrators_url_serves_as_its_own_role(
    database_url: str, tmp_path: Path
) -> None:
    schema = f"lp_{uuid.uuid4().hex[:10]}"
    app = create_app(
        schema=schema,
        settings=PlatformSettings(database_url=database_url, QYZMET_DATA_DIR=str(tmp_path)),
        run_projector=True,
        token_secret=SECRET,
    )
    runtime = app.state.intake
    await runtime.start()
    try:
        async with runtime.deps.pool.acquire() as conn:
            assert await conn.fetchval("SELECT current_user") == "qyzmet_intake"
            assert not await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://intake"
        ) as client:
            talon = await client.post("/v1/applications", json=unemployed_registration(), headers=auth())
            assert talon.status_code == 201, talon.text
            application_id = talon.json()["application_id"]

            async def projected() -> bool:
                answer = await client.get(f"/v1/applications/{application_id}", headers=auth())
                return answer.status_code == 200

            await wait_for(projected, timeout=10)
        async with runtime.deps.pool.acquire() as conn:
            assert await conn.fetchval(f"SELECT count(*) FROM {schema}.events") >= 1
            assert await conn.fetchval(f"SELECT count(*) FROM {schema}.audit_log") >= 1
    finally:
        await runtime.stop()
        await _forget(database_url, schema)


async def test_a_service_given_its_own_url_waits_until_db_setup_migrated_its_schema(
    database_url: str,
) -> None:
    tag = uuid.uuid4().hex[:10]
    schema, login = f"lp_{tag}", ServiceLogin(f"qyzmet_t{tag}")
    admin = await connect(database_url)
    try:
        await ensure_owner(admin)
        await ensure_login(admin, login, reads_catalog=False)
        pool = await create_pool(with_login(database_url, login))
        try:
            with pytest.raises(DatabaseNotConfigured, match="qyzmet db setup"):
                await await_migrations(pool, schema, INTAKE, wait_s=0)
            waiting = asyncio.create_task(await_migrations(pool, schema, INTAKE, wait_s=30))
            await asyncio.sleep(0.2)
            assert not waiting.done()
            await prepare_service_schema(admin, schema, INTAKE, login.role)
            await asyncio.wait_for(waiting, 10)
        finally:
            await pool.close()
    finally:
        await admin.close()
        await _forget(database_url, schema, roles=(login.role,))


async def test_db_setup_says_why_when_database_url_is_no_administrator(
    database_url: str, tmp_path: Path
) -> None:
    plain = ServiceLogin(f"qyzmet_t{uuid.uuid4().hex[:10]}")
    admin = await connect(database_url)
    try:
        await ensure_login(admin, plain, reads_catalog=False)
    finally:
        await admin.close()
    try:
        with pytest.raises(NotAnAdministrator, match="superuser or a role with CREATEROLE"):
            await setup_databases(
                with_login(database_url, plain), [], PlatformSettings(QYZMET_DATA_DIR=str(tmp_path))
            )
    finally:
        await _forget(database_url, roles=(plain.role,))
