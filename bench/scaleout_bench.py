"""Scale-out: automated decisions/s with one decision worker process, then with two (distinct
QYZMET_INSTANCE, sharing applications.v1's partitions), each on a fresh database with the same
events; and that no case was decided twice (DecisionMade per application = 1)."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.decision_workers import decided, decision_workers, produce, wait_for_group
from shared.db.pool import connect
from shared.infra import create_database, drop_database
from shared.messaging.topics import contract_topics, delete_topics, ensure_topics

Row = dict[str, Any]
EVENTS = int(os.environ.get("BENCH_SCALEOUT_EVENTS", "6000"))
"""Applications per run: at 1,500 a run lasted 0.5-0.7 s, and looking every 0.2 s made the
figures steps of ~30 % (two workers measured 0.97x one, or 1.42x, from the same code)."""
PARTITIONS = 6
LOOK_S = 0.05
"""How often the bench counts the decided cases (by the `cases` projection's decision time)."""


async def _throughput(database_url: str, bootstrap: str, workers: int, tmp: Path) -> tuple[float, int]:
    """Decisions/s of `workers` worker processes over EVENTS applications; cases decided twice."""
    name = f"bench_so_{uuid.uuid4().hex[:8]}"
    url = create_database(database_url, name)
    prefix = f"bso{uuid.uuid4().hex[:6]}."
    ensure_topics(bootstrap, contract_topics(PARTITIONS, prefix))
    env = {
        "DATABASE_URL": url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "TOPIC_PREFIX": prefix,
        "QYZMET_DATA_DIR": str(tmp / name),
        "QYZMET_TOKEN_SECRET": "bench-scale-out-" + "s" * 32,
        "QYZMET_LOG_LEVEL": "WARNING",
        "DECISION_SCHEDULER": "0",
    }
    try:
        with decision_workers(workers, env, tmp / name / "logs"):
            wait_for_group(bootstrap, f"{prefix}qyzmet-decision-worker", workers)  # partitions shared
            started = time.perf_counter()
            await produce(bootstrap, prefix + "applications.v1", EVENTS)
            conn = await connect(url)
            try:
                done = 0
                while done < EVENTS and time.perf_counter() - started < 300:
                    await asyncio.sleep(LOOK_S)
                    done = await conn.fetchval(
                        "SELECT count(*) FROM decision.cases WHERE decided_at IS NOT NULL"
                    )
                elapsed = time.perf_counter() - started
                counts = await decided(conn)  # each case's DecisionMade events, once all are in
            finally:
                await conn.close()
        return len(counts) / elapsed, sum(1 for n in counts.values() if n > 1)
    finally:
        drop_database(database_url, name)
        delete_topics(bootstrap, prefix=prefix, quiet=True)


async def run(database_url: str, bootstrap_servers: str) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="qyzmet-scaleout-") as tmp:
        one, twice_one = await _throughput(database_url, bootstrap_servers, 1, Path(tmp))
        two, twice_two = await _throughput(database_url, bootstrap_servers, 2, Path(tmp))
    return [
        {
            "name": "decision_scale_out_two_workers",
            "value": round(two, 1),
            "baseline": round(one, 1),
            "unit": "decisions/s",
            "ratio": round(two / one, 3) if one else None,
            "baseline_name": "one decision worker process",
            "decided_twice": twice_one + twice_two,
            "events": EVENTS,
        }
    ]


if __name__ == "__main__":
    import json
    import sys

    rows = asyncio.run(run(os.environ["DATABASE_URL"], os.environ["KAFKA_BOOTSTRAP_SERVERS"]))
    json.dump(rows, sys.stdout, indent=2)
