"""What `qyzmet run` does (the command and its options: `shared.cli.run`, which imports this
module only when the command runs, so `qyzmet run --help` answers at once): the infrastructure up,
the contract's topics, every registered service process and the simulator under one supervisor
with its own `/metrics`, the running-system record kept up to date, and everything stopped on
Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import structlog

from shared.audit.keys import AUDIT_KEY_ENV, ensure_audit_key
from shared.auth.tokens import local_secret
from shared.cli.db import least_privilege_environment
from shared.cli.run import RUN_PROCESS, banner, simulator_command
from shared.infra.stack import infra_down, infra_up, resolve_data_dir
from shared.logging import LOG_FORMAT_ENV, PROCESS_ENV, configure_logging
from shared.messaging.topics import contract_topics, ensure_topics
from shared.runtime.metrics_listener import MetricsSettings, start_metrics_listener
from shared.runtime.registry import ServicePlugin, registered_services
from shared.runtime.run_lock import AlreadyRunning, hold_run_lock
from shared.runtime.running import (
    RunningSystem,
    forget_running,
    record_running,
    recorded_processes,
    without_password,
)
from shared.runtime.startup_wait import StartupWait, api_root
from shared.runtime.supervisor import Supervisor
from shared.runtime.supervisor_metrics import SupervisorCollector
from shared.settings import PlatformSettings

RUN_METRICS_PORT_ENV = "QYZMET_RUN_METRICS_PORT"
ALREADY_RUNNING_EXIT = 1
"""A second run on a data directory a run holds (as `qyzmet up --detach` answers then)."""


def _port_environment(plugins: list[ServicePlugin]) -> dict[str, str]:
    """The default API port of every service, as the variable its API reads."""
    return {
        plugin.api_port_variable: str(plugin.api_port)
        for plugin in plugins
        if plugin.api_port_variable and plugin.api_port is not None
    }


def _api_urls(plugins: list[ServicePlugin], env: dict[str, str], started: set[str]) -> list[str]:
    """Each API started as `name URL`, the URL its first page (`ServicePlugin.home`: the OpenAPI
    docs, or the console's own page at the root): what the banner, `qyzmet up` and `system.json`
    show."""
    return [
        f"{p.name} http://127.0.0.1:{env[p.api_port_variable]}{p.home}"
        for p in plugins
        if f"{p.name}-api" in started and p.api_port_variable and p.api_port_variable in env
    ]


def _api_metrics(api_urls: dict[str, str]) -> dict[str, str]:
    """Each API's `/metrics`, at the root of the first page recorded for it."""
    return {f"{name}-api": api_root(url) + "/metrics" for name, url in api_urls.items()}


def _record_metrics(system: RunningSystem) -> RunningSystem:
    """Write down every process's `/metrics` URL once known: the APIs' on their ports, the
    workers' own listeners as they report them (`<data dir>/processes/`)."""
    found = {**_api_metrics(system.api_urls), **recorded_processes(system.data_dir)}
    if found == system.metrics_urls:
        return system
    updated = replace(system, metrics_urls=found)
    record_running(updated)
    return updated


def _serve_metrics(supervisor: Supervisor, data_dir: Path) -> str:
    """The supervisor's `/metrics`, written down (`<data dir>/processes/qyzmet-run.json`) as the
    workers' are; its URL."""
    from prometheus_client import REGISTRY

    REGISTRY.register(SupervisorCollector(supervisor))
    port = int(os.environ.get(RUN_METRICS_PORT_ENV) or 0)
    return start_metrics_listener(
        RUN_PROCESS, MetricsSettings().model_copy(update={"port": port, "data_dir": data_dir})
    )


def _announce(urls: list[str], rate: float | None, homes: dict[str, str]) -> None:
    """Once, when every API answers: the block of URLs at a terminal, else one log line (a log
    file or pipe holds JSON lines only)."""
    if sys.stdout.isatty():
        print(banner(urls, rate, homes), flush=True)
    else:
        _say("Qyzmet is running: " + ", ".join(urls) + "; Ctrl-C stops it.")


def _say(line: str) -> None:
    structlog.get_logger("qyzmet.run").info(line)


def _warn(line: str) -> None:
    """A crash, restart or give-up: shown even at QYZMET_LOG_LEVEL=WARNING."""
    structlog.get_logger("qyzmet.run").warning(line)


def run_system(args: argparse.Namespace) -> int:
    """`qyzmet run`, until Ctrl-C or SIGTERM; its exit code."""
    os.environ[PROCESS_ENV] = RUN_PROCESS
    # one format for this process's lines and every child's
    os.environ[LOG_FORMAT_ENV] = "pretty" if args.pretty else os.environ.get(LOG_FORMAT_ENV) or "json"
    configure_logging(os.environ.get("QYZMET_LOG_LEVEL", "INFO"))
    data_dir = resolve_data_dir(args.data_dir)
    try:
        lock = hold_run_lock(data_dir)  # before anything starts: one run per data directory
    except AlreadyRunning as exc:
        print(f"qyzmet run: {exc}", file=sys.stderr)
        return ALREADY_RUNNING_EXIT
    with lock:
        return _run_holding(args, data_dir)


def _run_holding(args: argparse.Namespace, data_dir: Path) -> int:
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
            **simulator_command(args, urls),
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
            token_secret_from_env=bool(child_env.get("QYZMET_TOKEN_SECRET")),  # never the secret
            audit_key_from_env=bool(child_env.get(AUDIT_KEY_ENV)),  # that it did, never the key
        )
        record_running(system)
        waiting = StartupWait(system.api_urls)
        _say("started every process; waiting for the APIs to answer: " + ", ".join(waiting.pending))
        while not stopping and supervisor.alive:
            supervisor.poll()
            system = _record_metrics(system)
            if not waiting.ready:
                for name in waiting.stopped_early(supervisor):
                    still = ", ".join(waiting.pending)
                    _warn(f"{name} stopped before the system was ready; still waiting for: {still}")
                if waiting.check():
                    rate = args.rate if "simulator" in supervisor.children else None
                    _announce(urls, rate, {p.name: p.home for p in plugins})
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
