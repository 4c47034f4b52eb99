"""Idle system: every process of `qyzmet run` with nothing to do, CPU per process over a window.

Target (issue 14): under 2 % of a core per process. The baseline is the bench process itself
sleeping on its event loop over the same window (what an idle Python process costs here).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.system import cpu_seconds, running_system

Row = dict[str, Any]
SETTLE_S = float(os.environ.get("BENCH_IDLE_SETTLE_S", "15"))
WINDOW_S = float(os.environ.get("BENCH_IDLE_WINDOW_S", "30"))
TARGET_SHARE = 0.02


def measure(database_url: str, bootstrap: str) -> dict[str, float]:
    """CPU share of a core per process over WINDOW_S, after SETTLE_S of start-up."""
    with (
        tempfile.TemporaryDirectory(prefix="qyzmet-idle-") as tmp,
        running_system(database_url, bootstrap, Path(tmp)) as system,
    ):
        time.sleep(SETTLE_S)
        procs = system.processes()
        before = {name: cpu_seconds(pid) for name, pid in procs.items()}
        started = time.monotonic()
        time.sleep(WINDOW_S)
        elapsed = time.monotonic() - started
        after = {name: cpu_seconds(pid) for name, pid in procs.items()}
    shares: dict[str, float] = {}
    for name, end in after.items():
        start = before.get(name)
        if start is not None and end is not None:
            shares[name] = (end - start) / elapsed
    return shares


async def run(database_url: str, bootstrap_servers: str) -> list[Row]:
    shares = await asyncio.to_thread(measure, database_url, bootstrap_servers)
    rows = [
        {
            "name": f"idle_cpu_{name}",
            "value": round(share * 100, 2),
            "unit": "% of a core",
            "target": f"<{TARGET_SHARE * 100:.0f}",
            "ok": share < TARGET_SHARE,
        }
        for name, share in sorted(shares.items())
    ]
    worst = max(shares.values(), default=0.0)
    rows.append(
        {
            "name": "idle_cpu_worst_process",
            "value": round(worst * 100, 2),
            "unit": "% of a core",
            "target": f"<{TARGET_SHARE * 100:.0f}",
            "ok": worst < TARGET_SHARE,
        }
    )
    return rows


if __name__ == "__main__":
    import json
    import sys

    rows = asyncio.run(run(os.environ["DATABASE_URL"], os.environ["KAFKA_BOOTSTRAP_SERVERS"]))
    json.dump(rows, sys.stdout, indent=2)
