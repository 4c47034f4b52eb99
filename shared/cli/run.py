"""`qyzmet run`: the whole system on this machine, until Ctrl-C.

Starts (or reuses) PostgreSQL and the broker (`qyzmet infra up`), creates the contract's
topics, then runs every process the installed services register (`qyzmet serve
<service>-api|-worker`, see `shared.runtime.registry`) as children of a supervisor
(`shared.runtime.supervisor`): a child that dies is restarted with back-off, one that
crash-loops is given up on while the others keep serving. Ctrl-C stops the children and the
PostgreSQL and broker this run started itself (data stays in `.data/`); `--keep-infra` leaves
them running, and servers that were already running or given by the environment are never
stopped unless `--stop-infra` asks for it.

The supervisor serves its own `/metrics` (its children: running, restarts, crashes, given up;
`shared.runtime.supervisor_metrics`) on `QYZMET_RUN_METRICS_PORT` (default 0: any free port; not
`QYZMET_METRICS_PORT`, which the children read), recorded as `qyzmet-run` in `system.json`.

Unless `--no-simulator`, the regional-office simulator (`qyzmet simulate`, when installed) runs
as one more child at `--rate` applications a second. Every line is JSON naming its process
(`qyzmet-run` for the supervisor's own), or one readable line each with `--pretty`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

RUN_PROCESS = "qyzmet-run"
"""The supervisor's own name in log lines and in the metrics record."""
DEFAULT_SIMULATOR_RATE = 2.0


def banner(urls: list[str], simulator_rate: float | None, homes: dict[str, str] | None = None) -> str:
    """What a person at the terminal needs (on stdout; the log lines go to stderr): each API's
    first page (`ServicePlugin.home`: the OpenAPI docs, or the console's own page)."""
    homes = homes or {}
    lines = ["", "Qyzmet is running:"]
    lines += [
        f"  {name:13} {url.removesuffix('/docs').rstrip('/') + homes.get(name, '/docs')}"
        for name, url in (u.split(" ", 1) for u in urls)
    ]
    if simulator_rate is not None:
        lines.append(f"  simulated regional offices: {simulator_rate:g} applications/s (--no-simulator: off)")
    lines += ["Ctrl-C stops it.", ""]
    return "\n".join(lines)


def simulator_command(args: argparse.Namespace, urls: list[str]) -> dict[str, list[str]]:
    """The regional-office simulator as one more child, when installed and wanted."""
    from importlib.metadata import entry_points

    if args.no_simulator or not entry_points(group="qyzmet.commands", name="simulate"):
        return {}
    argv = [sys.executable, "-m", "shared.cli.main", "simulate", "--rate", f"{args.rate:g}"]
    for name, url in (u.split(" ", 1) for u in urls):
        if name in ("intake", "decision", "complaints"):
            argv += ["--url", f"{name}={url.removesuffix('/docs')}"]
    return {"simulator": argv}


def _run(args: argparse.Namespace) -> int:
    from shared.runtime.local_run import run_system

    return run_system(args)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("run", help="run the whole system locally until Ctrl-C")
    parser.add_argument("--data-dir", default=None, help="where local servers keep data (default .data)")
    keep = parser.add_mutually_exclusive_group()
    keep.add_argument(
        "--keep-infra", action="store_true", help="leave the PostgreSQL and broker this run started running"
    )
    keep.add_argument(
        "--stop-infra",
        action="store_true",
        help="on exit also stop a PostgreSQL and broker that were already running locally",
    )
    add_system_options(parser)
    parser.set_defaults(handler=_run)


def add_system_options(parser: argparse.ArgumentParser) -> None:
    """The options `qyzmet run` and `qyzmet up` share: the simulator and the log format."""
    parser.add_argument(
        "--no-simulator", action="store_true", help="a quiet system: no simulated regional offices"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=DEFAULT_SIMULATOR_RATE,
        help=f"the simulator's applications a second (default {DEFAULT_SIMULATOR_RATE:g})",
    )
    parser.add_argument(
        "--pretty", action="store_true", help="readable log lines instead of JSON (every process)"
    )
