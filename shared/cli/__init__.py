"""The `qyzmet` command line (`shared.cli.main`). Every command line loads this package, so it
imports nothing beyond the standard library's `sys`."""

from __future__ import annotations

import sys

NO_DATABASE_URL = 'qyzmet: DATABASE_URL is not set (run `eval "$(qyzmet infra up)"`)'


def checked_database_url(url: str | None, missing: str = NO_DATABASE_URL) -> str | None:
    """`url`, or None once `missing` is printed on stderr (the command then exits with 2)."""
    if not url:
        print(missing, file=sys.stderr)
        return None
    return url
