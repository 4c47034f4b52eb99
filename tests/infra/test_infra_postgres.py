"""The PostgreSQL half of shared.infra: env first, embedded server really starts and stops."""

from __future__ import annotations

import os
import socket
import time
import uuid
from pathlib import Path

import asyncpg
import pytest

from shared.infra import (
    PortInUseError,
    create_database,
    drop_database,
    postgres_url_from_env_or_start,
    start_embedded_postgres,
    with_database,
)
from shared.infra.procs import children_of, pid_alive, port_accepts, wait_until_gone

MACHINE_URL = os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"


async def _machine_postgres_up() -> bool:
    try:
        conn = await asyncpg.connect(MACHINE_URL, timeout=3)
    except (OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


async def test_embedded_postgres_starts_answers_and_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    t0 = time.monotonic()
    handle = postgres_url_from_env_or_start(tmp_path, kind="embedded")
    try:
        elapsed = time.monotonic() - t0
        print(f"embedded PostgreSQL (initdb + start) ready in {elapsed:.2f}s at {handle.url}")
        assert handle.kind == "embedded"
        assert handle.owned
        assert handle.data_dir == (tmp_path / "pg").resolve()
        assert handle.url.startswith("postgresql://postgres@127.0.0.1:")
        conn = await asyncpg.connect(handle.url, timeout=10)
        try:
            assert await conn.fetchval("SELECT 1") == 1
            version = await conn.fetchval("SHOW server_version_num")
            assert int(version) >= 180000
            assert await conn.fetchval("SELECT current_database()") == "qyzmet"
        finally:
            await conn.close()

        # A second call on the same directory reuses the running server and does not own it.
        again = start_embedded_postgres(tmp_path / "pg")
        assert again.pid == handle.pid
        assert again.url == handle.url
        assert not again.owned
        again.stop()
        assert pid_alive(handle.pid)

        assert handle.pid is not None
        members = [handle.pid, *children_of(handle.pid)]
        assert len(members) > 1
    finally:
        t1 = time.monotonic()
        handle.stop()
        print(f"embedded PostgreSQL stopped in {time.monotonic() - t1:.2f}s")
    assert wait_until_gone(members, 2.0) == []
    assert handle.port is not None and not port_accepts(handle.port)


def test_embedded_port_taken_fails_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        t0 = time.monotonic()
        with pytest.raises(PortInUseError, match=str(port)):
            start_embedded_postgres(tmp_path / "pg", port=port)
        assert time.monotonic() - t0 < 2.0
    assert not (tmp_path / "pg" / "PG_VERSION").exists()


def test_database_url_from_env_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone@db.example:5432/cases")
    with postgres_url_from_env_or_start(tmp_path) as handle:
        assert handle.kind == "external"
        assert handle.url == "postgresql://someone@db.example:5432/cases"
        assert not handle.owned
    assert not any(tmp_path.iterdir())


def test_with_database_rewrites_only_the_path() -> None:
    url = "postgresql://u:p@h:5433/old?sslmode=disable"
    assert with_database(url, "new_db") == "postgresql://u:p@h:5433/new_db?sslmode=disable"


async def test_create_and_drop_database_for_isolation() -> None:
    if not await _machine_postgres_up():
        pytest.skip(f"no PostgreSQL at {MACHINE_URL}")
    name = f"infra_{uuid.uuid4().hex[:10]}"
    # The sync helper works from inside the running event loop.
    url = create_database(MACHINE_URL, name)
    try:
        assert url.endswith("/" + name)
        conn = await asyncpg.connect(url, timeout=5)
        try:
            assert await conn.fetchval("SELECT current_database()") == name
        finally:
            await conn.close()
        assert create_database(MACHINE_URL, name, exists_ok=True) == url
        with pytest.raises(asyncpg.DuplicateDatabaseError):
            create_database(MACHINE_URL, name)
    finally:
        drop_database(MACHINE_URL, name)
    with pytest.raises(asyncpg.InvalidCatalogNameError):
        await asyncpg.connect(url, timeout=5)


def test_create_database_rejects_bad_names() -> None:
    with pytest.raises(ValueError, match="invalid database name"):
        create_database(MACHINE_URL, 'x"; DROP DATABASE test; --')
