"""The command line's start-up: wall time of `qyzmet --help`, of every command's `--help` and of a
few simple commands (`qyzmet token`, `qyzmet topics list`), as a person at a terminal waits for
them: a fresh process each time, the installed `qyzmet` script, from a folder with no system.

Target (issue 13): each answers in under a second. The baseline is a bare interpreter start-up
(`python -c pass`) in the same run, so the ratio says what the command adds over Python itself.
Runs are interleaved (every command once per round), the median of `BENCH_CLI_RUNS` rounds kept.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from shared.cli.main import COMMANDS

Row = dict[str, Any]
RUNS = int(os.environ.get("BENCH_CLI_RUNS", "7"))
TARGET_MS = 1000.0
BASELINE = "python -c pass"
SIMPLE = {
    "qyzmet --help": ["--help"],
    "qyzmet token": ["token", "--role", "clerk", "--office", "karaganda-dept-01"],
    "qyzmet topics list": ["topics", "list"],
    "qyzmet simulate --help": ["simulate", "--help"],  # a command an installed package adds
}


def _qyzmet() -> list[str]:
    script = Path(sys.executable).with_name("qyzmet")
    return [str(script)] if script.exists() else [sys.executable, "-m", "shared.cli.main"]


def command_lines() -> dict[str, list[str]]:
    """name -> argv: the baseline, the simple commands, then every built-in command's `--help`."""
    qyzmet = _qyzmet()
    lines = {BASELINE: [sys.executable, "-c", "pass"]}
    lines.update({name: [*qyzmet, *argv] for name, argv in SIMPLE.items()})
    lines.update({f"qyzmet {command} --help": [*qyzmet, command, "--help"] for command in COMMANDS})
    return lines


def _once(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - started) * 1000


def measure(runs: int = RUNS) -> dict[str, float]:
    """name -> median wall milliseconds over `runs` interleaved rounds."""
    lines = command_lines()
    times: dict[str, list[float]] = {name: [] for name in lines}
    with tempfile.TemporaryDirectory(prefix="qyzmet-cli-bench-") as tmp:
        root = Path(tmp)
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS")},
            "QYZMET_TOKEN_SECRET": "cli-bench-secret-" + "b" * 32,  # no secret made on disk
            "QYZMET_DATA_DIR": str(root / "data"),
            "XDG_STATE_HOME": str(root / "state"),  # no running system found
        }
        for argv in lines.values():  # warm the file cache once: a person's second call, not the first
            _once(argv, env, root)
        for _ in range(runs):
            for name, argv in lines.items():
                times[name].append(_once(argv, env, root))
    return {name: statistics.median(values) for name, values in times.items()}


async def run(database_url: str, bootstrap_servers: str) -> list[Row]:
    medians = await asyncio.to_thread(measure)
    baseline = medians.pop(BASELINE)
    return [
        {
            "name": f"cli {name.removeprefix('qyzmet ')}",
            "value": round(ms, 1),
            "baseline": round(baseline, 1),
            "unit": "ms (median)",
            "ratio": round(ms / baseline, 2),
            "target": f"<={TARGET_MS:.0f}ms",
            "ok": ms <= TARGET_MS,
        }
        for name, ms in medians.items()
    ]


if __name__ == "__main__":  # `python -m bench.cli_bench`: needs no database or broker
    from bench.__main__ import _table

    print(_table(asyncio.run(run("", ""))))
