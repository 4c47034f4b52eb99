"""`make bench`: every benchmark side by side with its raw baseline, in one run.

Figures go to bench/results/<timestamp>.json and a table is printed.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.infra import postgres_url_from_env_or_start, start_kafka
from shared.logging import configure_logging
from shared.runtime.event_loop import install_event_loop

SUITES = (
    "bench.cli_bench",  # the command line's start-up (needs neither server)
    "bench.platform_bench",
    "bench.intake_bench",
    "bench.decision_bench",
    "bench.quality_bench",
    "bench.replay_bench",
    "bench.eventstore_peer_bench",
    "bench.eventstore_growth_bench",
    "bench.audit_bench",
    # the whole system (qyzmet run) and worker processes: idle CPU, latency under load, scale-out
    "bench.idle_bench",
    "bench.latency_bench",
    "bench.scaleout_bench",
)
RESULTS = Path(__file__).parent / "results"


def _table(rows: list[dict[str, Any]]) -> str:
    header = f"{'benchmark':40} {'value':>12} {'baseline':>12} {'unit':>16} {'ratio':>7} {'target':>7}"
    lines = [header, "-" * len(header)]
    for row in rows:
        target = row.get("target_ratio", row.get("target"))
        lines.append(
            f"{row['name']:40} {row['value']:>12} {row.get('baseline', ''):>12} {row['unit']:>16}"
            f" {row.get('ratio', ''):>7} {'' if target is None else target:>7}"
        )
    return "\n".join(lines)


async def _run_all(database_url: str, bootstrap: str, suites: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name in suites:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows.extend(await module.run(database_url, bootstrap))
    return rows


def main() -> int:
    # `python -m bench eventstore_peer_bench ...`: only the suites named (all when none is)
    suites = [s for s in SUITES if not sys.argv[1:] or s.rsplit(".", 1)[-1] in sys.argv[1:]]
    # The loop the service processes run on (uvloop, shared.runtime.event_loop): the in-process
    # workers are measured as they run in production, their raw baselines on the same loop.
    install_event_loop()
    # Logs as the system benchmarks' processes have them (QYZMET_LOG_LEVEL=WARNING, one JSON
    # format): an in-process worker does not print a line per command on the terminal.
    configure_logging(os.environ.get("QYZMET_LOG_LEVEL", "WARNING"))
    with tempfile.TemporaryDirectory(prefix="qyzmet-bench-") as tmp:
        postgres = postgres_url_from_env_or_start(Path(tmp) / "pg")
        kafka = start_kafka(Path(tmp) / "kafka")
        try:
            rows = asyncio.run(_run_all(postgres.url, kafka.bootstrap_servers, suites))
        finally:
            kafka.stop()
            postgres.stop()
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"{stamp}.json"
    out.write_text(json.dumps({"at": stamp, "broker": kafka.kind, "results": rows}, indent=2) + "\n")
    print(_table(rows))
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
