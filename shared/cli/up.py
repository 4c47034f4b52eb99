"""`qyzmet up [--detach] [--no-simulator] [--rate R] [--pretty]` and `qyzmet down`.

`up` is `qyzmet run`; with `--detach` it runs in the background (`shared.runtime.daemon`): the
command returns once every API answers, printing the URLs and the log file
(`<data dir>/logs/run.log`), and the running-system record holds its pid. `down` stops the system
(`--data-dir`, else `$QYZMET_DATA_DIR`, else one running from `./.data`, else the one started last
on this machine: `shared.runtime.running.current_installation`)
as Ctrl-C would - every process, and the PostgreSQL and broker it started itself - and waits.
Only argparse is imported at start; the rest when the command runs.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def _run_argv(args: argparse.Namespace) -> list[str]:
    argv = ["--rate", f"{args.rate:g}"]
    if args.no_simulator:
        argv.append("--no-simulator")
    if args.pretty:
        argv.append("--pretty")
    if args.keep_infra:
        argv.append("--keep-infra")
    return argv


def _up(args: argparse.Namespace) -> int:
    import os

    from shared.infra.stack import resolve_data_dir

    if not args.detach:
        from shared.cli.main import main

        data = ["--data-dir", args.data_dir] if args.data_dir else []
        return main(["run", *data, *_run_argv(args)])
    from shared.runtime.daemon import DaemonError, detach

    data_dir = resolve_data_dir(args.data_dir)
    print(
        f"qyzmet: starting the system in the background (log: {data_dir / 'logs' / 'run.log'})",
        file=sys.stderr,
    )
    try:
        started = detach(_run_argv(args), data_dir, dict(os.environ), timeout_s=args.timeout)
    except DaemonError as exc:
        print(f"qyzmet up: {exc}", file=sys.stderr)
        return 1
    system = started.system
    for name, url in system.api_urls.items():
        print(f"{name:14} {url}")
    print(f"{'broker':14} {system.kafka_bootstrap_servers}")
    print(f"{'log':14} {started.log_path}")
    print(f"qyzmet: running (pid {system.pid}); `qyzmet down` stops it", file=sys.stderr)
    return 0


def _down(args: argparse.Namespace) -> int:
    from shared.runtime.daemon import DaemonError, stop
    from shared.runtime.running import current_installation

    data_dir = current_installation(args.data_dir).data_dir.resolve()  # the rule every command follows
    try:
        stopped = stop(data_dir, grace_s=args.timeout)
    except DaemonError as exc:
        print(f"qyzmet down: {exc}", file=sys.stderr)
        return 1
    if stopped is None:
        print(f"qyzmet down: no running system found (data directory {data_dir})", file=sys.stderr)
        return 0
    print(f"qyzmet: stopped the system of {stopped.data_dir} (pid {stopped.pid})", file=sys.stderr)
    return 0


def register(subparsers: Any) -> None:
    up = subparsers.add_parser("up", help="start the whole system (`--detach`: in the background)")
    up.add_argument(
        "--detach", "-d", action="store_true", help="run in the background; `qyzmet down` stops it"
    )
    up.add_argument("--data-dir", default=None, help="where local servers keep data (default .data)")
    up.add_argument("--no-simulator", action="store_true", help="a quiet system: no simulated offices")
    up.add_argument(
        "--rate", type=float, default=2.0, help="the simulator's applications a second (default 2)"
    )
    up.add_argument("--pretty", action="store_true", help="readable log lines instead of JSON")
    up.add_argument(
        "--keep-infra", action="store_true", help="leave the PostgreSQL and broker running at `down`"
    )
    up.add_argument("--timeout", type=float, default=240.0, help="seconds to wait for the system (--detach)")
    up.set_defaults(handler=_up)

    down = subparsers.add_parser("down", help="stop the system `qyzmet up --detach` started, and wait")
    down.add_argument("--data-dir", default=None, help="the system's data directory (default: found)")
    down.add_argument("--timeout", type=float, default=120.0, help="seconds to wait before killing it")
    down.set_defaults(handler=_down)
