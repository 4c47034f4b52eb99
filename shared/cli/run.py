"""`qyzmet run`: the whole system on this machine, until Ctrl-C.

Starts (or reuses) PostgreSQL and the broker (`qyzmet infra up`), creates the contract's
topics, then runs every process the installed services register (`qyzmet serve
<service>-api|-worker`, see `shared.runtime.registry`) as children of a supervisor
(`shared.runtime.supervisor`): a child that dies is restarted with back-off, one that
crash-loops is given up on while the others keep serving. Ctrl-C stops the children and the
PostgreSQL and broker this run started itself (data stays in `.data/`); `--keep-infra` leaves
them running, and servers that were already running or given by the environment are never
stopped unless `--stop-infra` asks for it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from dataclasses import replace
from typing import Any

from shared.cli.db import least_privilege_environment
from shared.infra.stack import infra_down, infra_up, resolve_data_dir
from shared.messaging.topics import contract_topics, ensure_topics
from shared.runtime.registry import ServicePlugin, registered_services
from shared.runtime.running import RunningSystem, forget_running, record_running, recorded_processes
from shared.runtime.supervisor import Supervisor
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


def _record_metrics(system: RunningSystem) -> RunningSystem:
    """Write down every process's `/metrics` URL once known: the APIs' on their ports, the
    workers' own listeners as they report them (`<data dir>/processes/`)."""
    apis = {f"{name}-api": url.removesuffix("/docs") + "/metrics" for name, url in system.api_urls.items()}
    found = {**apis, **recorded_processes(system.data_dir)}
    if found == system.metrics_urls:
        return system
    updated = replace(system, metrics_urls=found)
    record_running(updated)
    return updated


def _say(line: str) -> None:
    print(f"qyzmet: {line}", file=sys.stderr, flush=True)


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
        _say("no service process is implemented yet")
        return 1
    stopping = False

    def on_signal(signum: int, _: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    data_dir = resolve_data_dir(args.data_dir)
    child_env = {**_port_environment(plugins), **env, "QYZMET_DATA_DIR": str(data_dir)}
    child_env = least_privilege_environment(infra.database_url, plugins, child_env)  # own roles
    supervisor = Supervisor(
        {name: [sys.executable, "-m", "shared.cli.main", "serve", name] for name in processes},
        child_env,
        say=_say,
    )
    try:
        supervisor.start()
        urls = _api_urls(plugins, child_env, set(processes))
        system = RunningSystem(
            pid=os.getpid(),
            data_dir=str(data_dir),
            kafka_bootstrap_servers=infra.kafka_bootstrap_servers,
            topic_prefix=settings.topic_prefix,
            api_urls=dict(url.split(" ", 1) for url in urls),
        )
        record_running(system)
        _say("Qyzmet is running: " + ", ".join(urls) + "\nCtrl-C stops it.")
        while not stopping and supervisor.alive:
            supervisor.poll()
            system = _record_metrics(system)
            time.sleep(0.2)
        if not stopping:
            _say("every process has stopped or crash-loops; stopping")
    finally:
        _say("stopping every process")
        forget_running(data_dir)
        supervisor.stop()
        _stop_infra(args, infra.started)
    return 1 if supervisor.failed() else 0


def _stop_infra(args: argparse.Namespace, started: tuple[str, ...]) -> None:
    """Stop the PostgreSQL and broker this run started itself (never ones it found running or was
    given), unless asked to keep them; `--stop-infra` stops them whoever started them."""
    if args.stop_infra:
        infra_down(args.data_dir)
        return
    if args.keep_infra:
        if started:
            _say(f"leaving {' and '.join(started)} running (--keep-infra); `qyzmet infra down` stops them")
        return
    if started:
        infra_down(args.data_dir, only=started)
    kept = [name for name in ("postgres", "kafka") if name not in started]
    if kept:
        _say(f"{' and '.join(kept)} were running before this run (or given); left running")


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
    parser.set_defaults(handler=_run)
