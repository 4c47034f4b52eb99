"""The `qyzmet` command line (`shared.cli.main`). Every command line loads this package, so it
imports nothing beyond the standard library's `sys` and `typing` (which argparse's callers load
anyway); the running-system record is read only when a command asks for a database."""

from __future__ import annotations

import sys
from typing import Protocol

NO_DATABASE_URL = (
    "qyzmet: DATABASE_URL is not set and no running system was found"
    ' (start one with `qyzmet run`, or run `eval "$(qyzmet infra up)"`)'
)


class DatabaseSettings(Protocol):
    """Where a command's database may come from (`PlatformSettings` is one)."""

    @property
    def database_url(self) -> str | None: ...


def running_database_url() -> str | None:
    """The database of the installation a command talks to
    (`shared.runtime.running.current_installation`), if its system runs: the one `qyzmet run` /
    `qyzmet up` started. Its address carries no password (libpq's `PGPASSWORD` or `~/.pgpass`
    supplies one)."""
    from shared.runtime.running import current_installation

    system = current_installation().system
    return (system.database_url or None) if system is not None else None


def checked_database_url(settings: DatabaseSettings, missing: str = NO_DATABASE_URL) -> str | None:
    """The database a command works on: `DATABASE_URL` (the environment always wins), else the
    running system's (said on stderr); None once `missing` is printed on stderr (the command then
    exits with 2)."""
    if settings.database_url:
        return settings.database_url
    found = running_database_url()
    if found:
        print(f"qyzmet: using the running system's database {found}", file=sys.stderr)
        return found
    print(missing, file=sys.stderr)
    return None
