"""Fixtures: a real PostgreSQL and a real Kafka-protocol broker, found as ARCHITECTURE.md §1 says.

PostgreSQL: DATABASE_URL, else testcontainers, else the embedded server (one per run), as its
administrator (`admin_pool`); each service's own login role as `<service>_pool` (tests/roles.py).
Kafka: KAFKA_BOOTSTRAP_SERVERS, else testcontainers, else the local noida-db binary; tests
marked `tansu` also run on tansu (the broker-compatibility subset).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from shared.db.pool import create_pool
from shared.eventstore import apply_migrations
from shared.infra import KafkaHandle, PostgresHandle, postgres_url_from_env_or_start, start_kafka
from tests.roles import open_service_pool


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "broker" in metafunc.fixturenames:
        if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
            kinds = ["external"]
        elif metafunc.definition.get_closest_marker("tansu"):
            kinds = ["noida", "tansu"]
        else:
            kinds = ["noida"]
        metafunc.parametrize("broker", kinds, indirect=True, scope="session")


_brokers: dict[str, KafkaHandle] = {}


@pytest.fixture(scope="session")
def infra_dir() -> Iterator[Path]:
    """Where this session's servers keep data. Not under pytest's basetemp: a concurrent pytest
    session rotates old basetemps away, which would delete a running server's data directory."""
    path = Path(tempfile.mkdtemp(prefix="qyzmet-test-infra-"))
    yield path
    for handle in _brokers.values():  # brokers live for the session (their fixture is parametrized)
        handle.stop()
    _brokers.clear()
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres(infra_dir: Path) -> Iterator[PostgresHandle]:
    handle = postgres_url_from_env_or_start(infra_dir)
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def database_url(postgres: PostgresHandle) -> str:
    return postgres.url


@pytest.fixture(scope="session")
async def admin_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """Connected as DATABASE_URL's administrator (a superuser): for making schemas and roles, and
    for test helpers that must go beyond a service role's rights. Never the code under test of a
    service (tests/roles.py)."""
    pool = await create_pool(database_url, min_size=2, max_size=20)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
def pool(admin_pool: asyncpg.Pool) -> asyncpg.Pool:
    """The administrator's pool here; tests/<service>/conftest.py overrides `pool` with the
    service's own login role (`<service>_pool`)."""
    return admin_pool


def _service_pool(service: str) -> Any:
    async def fixture(database_url: str, admin_pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Pool]:
        pool = await open_service_pool(database_url, admin_pool, service)
        yield pool
        await pool.close()

    fixture.__doc__ = f"Connected as qyzmet_{service}, the {service} service's own login role."
    return pytest.fixture(scope="session", name=f"{service}_pool")(fixture)


intake_pool = _service_pool("intake")
decision_pool = _service_pool("decision")
complaints_pool = _service_pool("complaints")
notification_pool = _service_pool("notification")


@pytest.fixture
async def schema(admin_pool: asyncpg.Pool) -> AsyncIterator[str]:
    """A fresh service schema with the platform migrations applied; dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    async with admin_pool.acquire() as conn:
        await apply_migrations(conn, name)
    yield name
    async with admin_pool.acquire() as conn:
        await conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


@pytest.fixture(scope="session")
def broker(request: pytest.FixtureRequest, infra_dir: Path) -> Iterator[KafkaHandle]:
    kind: str = request.param
    if kind not in _brokers:
        _brokers[kind] = start_kafka(infra_dir / kind, kind=None if kind == "external" else kind)
    yield _brokers[kind]


@pytest.fixture
def topic_prefix() -> str:
    """Unique topic (and group) names per test."""
    return f"t{uuid.uuid4().hex[:10]}."
