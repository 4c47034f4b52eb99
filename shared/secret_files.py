"""Secrets a local installation keeps in its data dir (the token secret, the database roles'
secret, the audit key): made on first use, readable by their owner only."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path


def local_secret_file(data_dir: Path, name: str) -> str:
    """The secret in `data_dir/name`, made on first use. A new one is written whole, then linked
    in place: of processes starting at once, one secret wins and every one of them reads that one
    (never a half-written file)."""
    path = data_dir / name
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=data_dir, prefix=f".{name}.")  # readable by the owner only
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(secrets.token_urlsafe(48))
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
    return path.read_text(encoding="utf-8").strip()
