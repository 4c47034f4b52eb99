"""`qyzmet up --detach` / `qyzmet down`: the same supervisor `qyzmet run` is, in the background.

`detach` starts `qyzmet run` in a session of its own (no terminal: Ctrl-C in the shell that
started it does not reach it), its output appended to `<data dir>/logs/run.log`, and waits until
it has written the running-system record (`shared.runtime.running`: its pid, broker, API URLs)
and every API answers `/healthz`. `stop` sends that pid SIGTERM - `qyzmet run` then stops its
children and the PostgreSQL and broker it started itself, as on Ctrl-C - and waits until it is
gone (SIGKILL to its whole session after the grace period).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from shared.infra.procs import pid_alive
from shared.runtime.running import SYSTEM_FILE, RunningSystem
from shared.runtime.startup_wait import answers_healthz

LOG_DIR = "logs"
LOG_FILE = "run.log"


__all__ = ["DaemonError", "Detached", "detach", "log_path", "pid_alive", "recorded", "stop"]


class DaemonError(RuntimeError):
    """The background system did not start, or did not stop."""


@dataclass(frozen=True)
class Detached:
    system: RunningSystem
    log_path: Path


def log_path(data_dir: Path) -> Path:
    return data_dir / LOG_DIR / LOG_FILE


def recorded(data_dir: Path) -> RunningSystem | None:
    """The running-system record in `data_dir` (alive or not)."""
    try:
        return RunningSystem(**json.loads((data_dir / SYSTEM_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def _healthy(url: str) -> bool:
    return answers_healthz(url, timeout_s=2.0)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def detach(run_argv: Sequence[str], data_dir: Path, env: dict[str, str], timeout_s: float = 240) -> Detached:
    """Start `qyzmet run` (its arguments `run_argv`) in the background; return once it serves."""
    data_dir.mkdir(parents=True, exist_ok=True)
    existing = recorded(data_dir)
    if existing is not None and pid_alive(existing.pid):
        raise DaemonError(
            f"a system already runs from {data_dir} (pid {existing.pid}); `qyzmet down` stops it"
        )
    path = log_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as log, open(os.devnull, "rb") as nothing:
        process = subprocess.Popen(
            [sys.executable, "-m", "shared.cli.main", "run", *run_argv],
            stdin=nothing,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**env, "QYZMET_DATA_DIR": str(data_dir)},
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            raise DaemonError(f"`qyzmet run` exited with code {code}; its log ({path}):\n{_tail(path)}")
        system = recorded(data_dir)
        if system is not None and system.pid == process.pid and all(map(_healthy, system.api_urls.values())):
            return Detached(system, path)
        time.sleep(0.5)
    raise DaemonError(
        f"the system did not answer within {timeout_s:g} s (still starting: pid {process.pid});"
        f" `qyzmet down` stops it; its log ({path}):\n{_tail(path)}"
    )


def stop(data_dir: Path, grace_s: float = 120) -> RunningSystem | None:
    """SIGTERM the system recorded in `data_dir` and wait until it is gone; None if none runs."""
    system = recorded(data_dir)
    if system is None or not pid_alive(system.pid):
        return None
    os.kill(system.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not pid_alive(system.pid):
            return system
        time.sleep(0.2)
    try:
        os.killpg(system.pid, signal.SIGKILL)  # its session: `detach` made it a session leader
    except (ProcessLookupError, PermissionError):
        os.kill(system.pid, signal.SIGKILL)
    raise DaemonError(f"pid {system.pid} did not stop within {grace_s:g} s; its session was killed")
