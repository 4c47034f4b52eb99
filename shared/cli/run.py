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
import os
import signal
import sys
import time
from dataclasses import replace
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import structlog

from shared.audit.keys import ensure_audit_key
from shared.auth.tokens import local_secret
from shared.cli.db import least_privilege_environment
from shared.infra.stack import infra_down, infra_up, resolve_data_dir
from shared.logging import LOG_FORMAT_ENV, PROCESS_ENV, configure_logging
from shared.messaging.topics import contract_topics, ensure_topics
from shared.runtime.metrics_listener import MetricsSettings, start_metrics_listener
from shared.runtime.registry import ServicePlugin, registered_services
from shared.runtime.running import (
    RunningSystem,
    forget_running,
    record_running,
    recorded_processes,
    without_password,
)
from shared.runtime.supervisor import Supervisor
from shared.runtime.supervisor_metrics import SupervisorCollector
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


RUN_PROCESS = "qyzmet-run"
DEFAULT_SIMULATOR_RATE = 2.0
RUN_METRICS_PORT_ENV = "QYZMET_RUN_METRICS_PORT"


def _serve_metrics(supervisor: Supervisor, data_dir: Path) -> str:
    """The supervisor's `/metrics`, written down (`<data dir>/processes/qyzmet-run.json`) as the
    workers' are; its URL."""
    from prometheus_client import REGISTRY

    REGISTRY.register(SupervisorCollector(supervisor))
    port = int(os.environ.get(RUN_METRICS_PORT_ENV) or 0)
    return start_metrics_listener(
        RUN_PROCESS, MetricsSettings().model_copy(update={"port": port, "data_dir": data_dir})
    )


def _say(line: str) -> None:
    structlog.get_logger("qyzmet.run").info(line)


def _warn(line: str) -> None:
    """A crash, restart or give-up: shown even at QYZMET_LOG_LEVEL=WARNING."""
    structlog.get_logger("qyzmet.run").warning(line)


def _banner(urls: list[str], simulator_rate: float | None, homes: dict[str, str] | None = None) -> str:
    """What a person at the terminal needs (on stdout; the log lines go to stderr): each API's
    first page (`ServicePlugin.home`: the OpenAPI docs, or the console's own page)."""
    homes = homes or {}
    lines = ["", "Qyzmet is running:"]
    lines += [
        f"  {name:13} {url.removesuffix('/docs') + homes.get(name, '/docs')}"
        for name, url in (u.split(" ", 1) for u in urls)
    ]
    if simulator_rate is not None:
        lines.append(f"  simulated regional offices: {simulator_rate:g} applications/s (--no-simulator: off)")
    lines += ["Ctrl-C stops it.", ""]
    return "\n".join(lines)


def _simulator(args: argparse.Namespace, urls: list[str]) -> dict[str, list[str]]:
    """The regional-office simulator as one more child, when installed and wanted."""
    if args.no_simulator or not entry_points(group="qyzmet.commands", name="simulate"):
        return {}
    argv = [sys.executable, "-m", "shared.cli.main", "simulate", "--rate", f"{args.rate:g}"]
    for name, url in (u.split(" ", 1) for u in urls):
        if name in ("intake", "decision", "complaints"):
            argv += ["--url", f"{name}={url.removesuffix('/docs')}"]
    return {"simulator": argv}


def _run(args: argparse.Namespace) -> int:
    os.environ[PROCESS_ENV] = RUN_PROCESS
    # one format for this process's lines and every child's
    os.environ[LOG_FORMAT_ENV] = "pretty" if args.pretty else os.environ.get(LOG_FORMAT_ENV) or "json"
    configure_logging(os.environ.get("QYZMET_LOG_LEVEL", "INFO"))
    infra = infra_up(args.data_dir, say=_say)  # its lines in the one log format too
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
    child_env, own_env = least_privilege_environment(infra.database_url, plugins, child_env)
    child_env.pop(PROCESS_ENV, None)  # each child names itself
    if not child_env.get("QYZMET_TOKEN_SECRET"):
        local_secret(data_dir)  # made once here, before APIs and simulator read it at once
    ensure_audit_key(data_dir)  # the audit chains' key, likewise (unless QYZMET_AUDIT_KEY)
    urls = _api_urls(plugins, child_env, set(processes))
    supervisor = Supervisor(
        {
            **{name: [sys.executable, "-m", "shared.cli.main", "serve", name] for name in processes},
            **_simulator(args, urls),
        },
        child_env,
        say=_say,
        warn=_warn,
        own_env=own_env,  # each service's processes: its own login role's URL
    )
    _serve_metrics(supervisor, data_dir)
    try:
        supervisor.start()
        system = RunningSystem(
            pid=os.getpid(),
            data_dir=str(data_dir),
            kafka_bootstrap_servers=infra.kafka_bootstrap_servers,
            topic_prefix=settings.topic_prefix,
            api_urls=dict(url.split(" ", 1) for url in urls),
            database_url=without_password(infra.database_url),  # never its password
        )
        record_running(system)
        _say("Qyzmet is running: " + ", ".join(urls) + "\nCtrl-C stops it.")
        rate = args.rate if "simulator" in supervisor.children else None
        print(_banner(urls, rate, {p.name: p.home for p in plugins}), flush=True)
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
        infra_down(args.data_dir, say=_say)
        return
    if args.keep_infra:
        if started:
            _say(f"leaving {' and '.join(started)} running (--keep-infra); `qyzmet infra down` stops them")
        return
    if started:
        infra_down(args.data_dir, say=_say, only=started)
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
