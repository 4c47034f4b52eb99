"""Start `qyzmet run` for a system test and stop it with everything it started, even when the
test fails: the run gets a session of its own, and the teardown ends that whole process group
(a plain kill of the parent would leave its children, e.g. the console and the simulator, running)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import httpx

from shared.infra import KafkaHandle
from shared.infra.procs import free_ports

RUN_ARGV = (sys.executable, "-m", "shared.cli.main", "run", "--no-simulator")
SERVICES = ("intake", "decision", "notification", "complaints", "console")
"""The processes of a run that answer on an API port of their own."""


def run_env(
    url: str, broker: KafkaHandle, data_dir: Path, topic_prefix: str, secret: str, **extra: str
) -> tuple[dict[str, str], dict[str, int]]:
    """The environment of a `qyzmet run` on the test's database, broker and topic prefix, with a
    free API port for each service (`extra` added last), and those ports by service. The run's
    XDG_STATE_HOME is `state` beside `data_dir` (unless `extra` names one): the pointer to the
    running system it records (`shared.runtime.running.pointer_path`) stays in the test's folder,
    never replacing the user's `~/.local/state/qyzmet/current`."""
    ports = dict(zip(SERVICES, free_ports(len(SERVICES)), strict=True))
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "KAFKA_IDEMPOTENT_PRODUCER": "false" if broker.kind == "tansu" else "true",
        "TOPIC_PREFIX": topic_prefix,
        "QYZMET_DATA_DIR": str(data_dir),
        "QYZMET_TOKEN_SECRET": secret,
        "XDG_STATE_HOME": str(data_dir.parent / "state"),
        **{f"{service.upper()}_API_PORT": str(port) for service, port in ports.items()},
        **extra,
    }
    return env, ports


def start_run(
    argv: Sequence[str], env: Mapping[str, str], log: IO[Any], **kwargs: Any
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        list(argv), env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **kwargs
    )


def stop_run(process: subprocess.Popen[bytes], grace_s: float = 60.0) -> None:
    """Ctrl-C (the run stops its children and the servers it started), then SIGKILL to the group."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(grace_s)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # whatever of the group is left
    if process.poll() is None:
        process.wait()


def eventually(
    check: Callable[..., Any],
    what: str,
    timeout_s: float = 60.0,
    *,
    interval_s: float = 0.25,
    errors: tuple[type[BaseException], ...] = (httpx.HTTPError,),
) -> Any:
    """`check()`'s first truthy answer, asked every `interval_s` (one of `errors` counts as no
    answer yet); AssertionError naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            found = check()
        except errors:
            found = None
        if found:
            return found
        time.sleep(interval_s)
    raise AssertionError(f"timed out waiting for {what}")
