"""``qyzmet infra up|down|status``: local PostgreSQL and Kafka that outlive the command.

``eval "$(qyzmet infra up)"`` exports ``DATABASE_URL`` and ``KAFKA_BOOTSTRAP_SERVERS``; status
messages go to stderr. Data stays in ``--data-dir`` (default ``$QYZMET_DATA_DIR`` or ``./.data``):
``pg/`` for the embedded PostgreSQL, ``kafka/`` for noida-db, ``infra.json`` for the state.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def _up(args: argparse.Namespace) -> int:
    from shared.infra.errors import InfraError
    from shared.infra.stack import infra_up

    try:
        env = infra_up(
            args.data_dir,
            pg_port=args.pg_port,
            kafka_port=args.kafka_port,
            broker=args.broker,
            timeout=args.timeout,
        )
    except InfraError as exc:
        print(f"qyzmet infra up: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(env.exports())
    sys.stdout.flush()
    return 0


def _down(args: argparse.Namespace) -> int:
    from shared.infra.errors import InfraError
    from shared.infra.stack import infra_down

    try:
        infra_down(args.data_dir)
    except InfraError as exc:
        print(f"qyzmet infra down: {exc}", file=sys.stderr)
        return 1
    return 0


def _status(args: argparse.Namespace) -> int:
    from shared.infra.stack import infra_status

    state = infra_status(args.data_dir)
    if args.json:
        print(json.dumps(state, indent=2, sort_keys=True))
        return 0
    if not state:
        print("nothing recorded (run `qyzmet infra up`)")
        return 0
    for name, entry in sorted(state.items()):
        print(_describe(name, entry))
    return 0


def _describe(name: str, entry: dict[str, Any]) -> str:
    where = entry.get("url") or entry.get("bootstrap_servers")
    running = entry.get("running")
    if running is None:
        health = "external"
    else:
        health = f"running (pid {entry.get('pid')})" if running else "NOT running"
    return f"{name}: {entry.get('kind')} {health} {where}"


def register(subparsers: Any) -> None:
    """Add ``infra`` with its sub-commands to the ``qyzmet`` parser."""
    parser = subparsers.add_parser("infra", help="start/stop local PostgreSQL and Kafka for `make run`")
    commands = parser.add_subparsers(dest="infra_command", required=True)

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--data-dir",
            default=None,
            help="where data and state live (default: $QYZMET_DATA_DIR, else ./.data)",
        )

    up = commands.add_parser("up", help="start what is missing and print `export ...` lines")
    common(up)
    up.add_argument("--pg-port", type=int, default=None, help="embedded PostgreSQL port (default 55432)")
    up.add_argument("--kafka-port", type=int, default=None, help="local broker port (default 59092)")
    up.add_argument(
        "--broker",
        choices=("noida", "tansu"),
        default=None,
        help="local broker (default: $KAFKA_LOCAL_BROKER or noida)",
    )
    up.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for each server")
    up.set_defaults(handler=_up)

    down = commands.add_parser("down", help="stop what `up` started (data is kept)")
    common(down)
    down.set_defaults(handler=_down)

    status = commands.add_parser("status", help="show what runs")
    common(status)
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(handler=_status)
