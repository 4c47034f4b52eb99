"""`qyzmet run`: the whole system on this machine, until Ctrl-C.

Starts (or reuses) PostgreSQL and the broker (`qyzmet infra up`), creates the contract's
topics, then runs every process the installed services register (`qyzmet serve
<service>-api|-worker`, see `shared.runtime.registry`) as child processes with the
infrastructure's environment. Ctrl-C stops the children; the infrastructure keeps running
with its data in `.data/` unless `--stop-infra` is given.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from typing import Any

from shared.infra.stack import infra_down, infra_up
from shared.messaging.topics import contract_topics, ensure_topics
from shared.runtime.registry import ServicePlugin, registered_services
from shared.settings import PlatformSettings


def _port_environment(plugins: list[ServicePlugin]) -> dict[str, str]:
    """The default API port of every service, as the variable its API reads."""
    return {
        plugin.api_port_variable: str(plugin.api_port)
        for plugin in plugins
        if plugin.api_port_variable and plugin.api_port is not None
    }


def _api_urls(plugins: list[ServicePlugin], env: dict[str, str], started: set[str]) -> list[str]:
    return [
        f"{p.name} http://127.0.0.1:{env[p.api_port_variable]}/docs"
        for p in plugins
        if f"{p.name}-api" in started and p.api_port_variable and p.api_port_variable in env
    ]


def _stop(children: dict[str, subprocess.Popen[bytes]], grace_s: float = 10.0) -> None:
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for child in children.values():
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _run(args: argparse.Namespace) -> int:
    infra = infra_up(args.data_dir)
    env = {**os.environ, **infra.env()}
    settings = PlatformSettings()
    ensure_topics(
        infra.kafka_bootstrap_servers, contract_topics(settings.topic_partitions, settings.topic_prefix)
    )
    plugins = registered_services()  # in the architecture's order: intake first
    processes = [process for plugin in plugins for process in plugin.processes()]
    if not processes:
        print("qyzmet: no service process is implemented yet", file=sys.stderr)
        return 1
    children: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def on_signal(signum: int, _: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        child_env = {**_port_environment(plugins), **env}
        for process in processes:
            children[process] = subprocess.Popen(
                [sys.executable, "-m", "shared.cli.main", "serve", process], env=child_env
            )
            print(f"started {process} (pid {children[process].pid})", file=sys.stderr)
        print(
            "Qyzmet is running: "
            + ", ".join(_api_urls(plugins, child_env, set(children)))
            + "\nCtrl-C stops it.",
            file=sys.stderr,
        )
        while not stopping:
            for process, child in children.items():
                if child.poll() is not None:
                    print(f"{process} exited with {child.returncode}; stopping", file=sys.stderr)
                    stopping = True
            time.sleep(0.5)
    finally:
        _stop(children)
        if args.stop_infra:
            infra_down(args.data_dir)
    failed = [p for p, c in children.items() if c.returncode not in (0, -signal.SIGTERM)]
    return 1 if failed and not stopping else 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("run", help="run the whole system locally until Ctrl-C")
    parser.add_argument("--data-dir", default=None, help="where local servers keep data (default .data)")
    parser.add_argument(
        "--stop-infra", action="store_true", help="also stop PostgreSQL and the broker on exit"
    )
    parser.set_defaults(handler=_run)
