"""One `qyzmet run` per data directory: the run holds an exclusive lock on `<data dir>/run.lock`
(holding its pid) for as long as it lives; the kernel lets it go when the process ends, however it
ends. A second run on the same data directory - which would reuse the first one's PostgreSQL and
broker, start workers with the same instance ids, fail on the APIs' ports and delete the first
one's `system.json` when it stops - is refused before it starts anything."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

LOCK_FILE = "run.lock"


class AlreadyRunning(RuntimeError):
    """Another `qyzmet run` holds the data directory."""


def hold_run_lock(data_dir: Path) -> IO[str]:
    """Take the data directory for this process; keep the returned file open while it runs."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = (data_dir / LOCK_FILE).open("a+", encoding="utf-8")  # not inherited by children
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise AlreadyRunning(
            f"a system already runs from {data_dir} (pid {holder}); `qyzmet down` stops it,"
            " or give this one another --data-dir / QYZMET_DATA_DIR"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle
