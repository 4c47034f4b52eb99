"""The system under fault: `qyzmet run` with its own embedded PostgreSQL, local noida broker, data
directory and ports, and the faults the suite inflicts on it (SIGKILL of a service process,
a PostgreSQL restart, a broker restart by SIGTERM or SIGKILL on the same data and port)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import psutil

from shared.infra.kafka import start_local_broker
from shared.infra.postgres import start_embedded_postgres, stop_embedded_postgres
from shared.infra.procs import free_ports, group_members
from shared.infra.stack import load_state, save_state

SERVICES = ("intake", "decision", "notification", "complaints")
PROCESSES = tuple(f"{svc}-{kind}" for svc in SERVICES for kind in ("api", "worker"))
SECRET = "fault-suite-secret-" + "f" * 32
REMOVED = ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "QYZMET_TOKEN_SECRET", "TOPIC_PREFIX", "INTAKE_SCHEMA")


@dataclass
class System:
    root: Path
    source: Path | None = None
    """Where the system's code is (a snapshot), instead of this working tree."""
    env: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        return self.root / "run.log"

    @property
    def pg_port(self) -> int:
        return int(self.env["EMBEDDED_PG_PORT"])

    @property
    def kafka_port(self) -> int:
        return int(self.env["KAFKA_LOCAL_PORT"])

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def database_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.pg_port}/qyzmet"

    def base(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start(self, timeout_s: float = 180) -> None:
        *api_ports, pg_port, kafka_port, console_port = free_ports(len(SERVICES) + 3)
        self.ports = dict(zip(SERVICES, api_ports, strict=True))
        env = {k: v for k, v in os.environ.items() if k not in REMOVED}
        env.update(
            {
                "QYZMET_DATA_DIR": str(self.data_dir),
                "EMBEDDED_PG_PORT": str(pg_port),
                "KAFKA_LOCAL_PORT": str(kafka_port),
                "QYZMET_NO_DOCKER": "1",
                "XDG_STATE_HOME": str(self.root / "state"),
                "QYZMET_TOKEN_SECRET": SECRET,
                "QYZMET_LOG_LEVEL": os.environ.get("FAULTS_LOG_LEVEL", "WARNING"),  # INFO to see every start
                # A worker stuck after a broker kill restarts itself well inside the quiet period.
                "QYZMET_WORKER_STALL_S": "45",
                **{f"{svc.upper()}_API_PORT": str(port) for svc, port in self.ports.items()},
                "CONSOLE_API_PORT": str(console_port),  # the operations console (no worker)
                # Delivery attempts to an SMTP server nobody runs would only add noise.
                "NOTIFICATION_CHANNELS": '["sms","pickup"]',
                "NOTIFICATION_SMS_PROVIDER": "logging",
            }
        )
        if self.source is not None:
            env["PYTHONPATH"] = str(self.source)
        self.env = env
        work = self.root / "cwd"  # the workers' local state directories land here, not in the repo
        work.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("w+b")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "shared.cli.main", "run", "--no-simulator"],
            env=env,
            cwd=work,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        # Started once every API answers (the run's own "Qyzmet is running" is an INFO line, and the
        # suite logs at WARNING).
        deadline = time.monotonic() + timeout_s
        for svc in SERVICES:
            self.wait_healthy(svc, deadline)

    def wait_healthy(self, service: str, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError("qyzmet run did not start:\n" + self.output()[-4000:])
            try:
                if httpx.get(f"{self.base(service)}/healthz", timeout=3).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{service}-api never became healthy:\n" + self.output()[-4000:])

    def output(self) -> str:
        return self.log_path.read_text("utf-8", "replace") if self.log_path.exists() else ""

    # ------------------------------------------------------------------ service processes

    def children(self) -> dict[str, psutil.Process]:
        """The supervisor's children by process name (`intake-api`, ...)."""
        assert self.process is not None
        found: dict[str, psutil.Process] = {}
        for child in psutil.Process(self.process.pid).children():
            try:
                argv = child.cmdline()
            except psutil.Error:
                continue
            if "serve" in argv and argv.index("serve") + 1 < len(argv):
                found[argv[argv.index("serve") + 1]] = child
        return found

    def kill_child(self, name: str) -> int:
        """SIGKILL one service process; its pid."""
        child = self.children()[name]
        child.send_signal(signal.SIGKILL)
        return int(child.pid)

    # ------------------------------------------------------------------ infrastructure

    def restart_postgres(self, down_s: float = 3.0) -> None:
        pgdata = self.data_dir / "pg"
        stop_embedded_postgres(pgdata)
        time.sleep(down_s)
        # `qyzmet run` stops whatever server runs on this cluster directory (postmaster.pid).
        start_embedded_postgres(pgdata, port=self.pg_port).detach()

    def restart_broker(self, sig: signal.Signals, down_s: float = 2.0) -> None:
        """Stop the broker with `sig` (its whole process group), start it on the same data and port,
        and record the new one where `qyzmet run` looks for it when it stops."""
        state = load_state(self.data_dir)
        entry = state["kafka"]
        pgid = int(entry["pgid"])
        os.killpg(pgid, sig)
        deadline = time.monotonic() + 30
        while group_members(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if group_members(pgid):
            os.killpg(pgid, signal.SIGKILL)
            time.sleep(0.5)
        time.sleep(down_s)
        handle = start_local_broker("noida", self.data_dir, port=self.kafka_port).detach()
        entry.update({"pid": handle.pid, "pgid": handle.pgid})
        state["kafka"] = entry
        save_state(self.data_dir, state)

    # ------------------------------------------------------------------ end

    def stop(self) -> int | None:
        """Ctrl-C to `qyzmet run` (it stops its children, PostgreSQL and the broker); its exit code."""
        code: int | None = None
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                code = self.process.wait(120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        elif self.process is not None:
            code = self.process.returncode
        if self._log is not None:
            self._log.close()
        return code

    def leftovers(self) -> list[str]:
        """Processes of this system still running after stop (there must be none)."""
        marker = str(self.root)
        left = []
        for proc in psutil.process_iter(["pid", "cmdline"]):
            argv = proc.info.get("cmdline") or []
            if any(marker in part for part in argv):
                left.append(f"{proc.info['pid']}: {' '.join(argv)[:120]}")
        return left
