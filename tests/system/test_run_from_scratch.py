"""`qyzmet run` on a machine with nothing running: a second shell in another folder finds the
running system (`qyzmet token` signs with the secret the services use, `qyzmet topics read`
reads from its broker without KAFKA_BOOTSTRAP_SERVERS, `qyzmet report quality` reads the embedded
PostgreSQL the run started without DATABASE_URL), and Ctrl-C stops every process it started,
including the PostgreSQL and broker it started itself, and says so."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx

from shared.infra.procs import free_ports, port_accepts
from tests.system.processes import start_run, stop_run


def _wait_healthy(base: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{base} never became healthy")


def _second_shell(env: dict[str, str], elsewhere: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A `qyzmet` command from another folder, without the system's environment."""
    clean = {k: v for k, v in env.items() if k not in ("QYZMET_DATA_DIR", "QYZMET_TOKEN_SECRET")}
    return subprocess.run(
        [sys.executable, "-m", "shared.cli.main", *args],
        env=clean, cwd=elsewhere, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_a_second_shell_finds_the_system_and_ctrl_c_stops_what_run_started(tmp_path: Path) -> None:
    pg_port, kafka_port, *api_ports = free_ports(7)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "QYZMET_TOKEN_SECRET")
    }
    env.update(
        {
            "QYZMET_DATA_DIR": str(tmp_path / "data"),
            "EMBEDDED_PG_PORT": str(pg_port),
            "KAFKA_LOCAL_PORT": str(kafka_port),
            "QYZMET_NO_DOCKER": "1",
            "XDG_STATE_HOME": str(tmp_path / "state"),
            **{var: str(port) for var, port in zip(
                ("INTAKE_API_PORT", "DECISION_API_PORT", "NOTIFICATION_API_PORT", "COMPLAINTS_API_PORT",
                 "CONSOLE_API_PORT"),
                api_ports, strict=True,
            )},
        }
    )  # fmt: skip
    log_path = tmp_path / "run.log"
    with log_path.open("w+b") as log:
        process = start_run([sys.executable, "-m", "shared.cli.main", "run", "--no-simulator"], env, log)
        try:
            deadline = time.monotonic() + 240  # it says so once every API answers /healthz
            while b"Qyzmet is running" not in log_path.read_bytes():
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
            assert port_accepts(pg_port) and port_accepts(kafka_port)
            elsewhere = tmp_path / "elsewhere"
            elsewhere.mkdir()
            token = _second_shell(env, elsewhere, "token", "--role", "clerk", "--office", "karaganda-dept-01")
            assert token.returncode == 0 and "made a new token secret" not in token.stderr, token.stderr
            assert not (elsewhere / ".data").exists()
            intake = f"http://127.0.0.1:{env['INTAKE_API_PORT']}"
            _wait_healthy(intake)
            headers = {"Authorization": f"Bearer {token.stdout.strip()}"}
            assert httpx.get(f"{intake}/v1/applications", headers=headers, timeout=10).status_code == 200
            topics = _second_shell(env, elsewhere, "topics", "read", "applications.v1")
            assert topics.returncode == 0, topics.stderr
            for service in ("DECISION", "COMPLAINTS"):  # their schemas are made as they start
                _wait_healthy(f"http://127.0.0.1:{env[f'{service}_API_PORT']}")
            today = date.today().isoformat()
            report = _second_shell(env, elsewhere, "report", "quality", "--from", today, "--to", today)
            assert report.returncode == 0, report.stderr
            assert f"using the running system's database postgresql://postgres@127.0.0.1:{pg_port}/" in (
                report.stderr
            )
            process.send_signal(signal.SIGINT)
            process.wait(90)
        finally:
            stop_run(process, 30)
    output = log_path.read_text()
    assert not port_accepts(pg_port), output
    assert not port_accepts(kafka_port), output
    assert "stopping every process" in output
    assert "stopped" in output.split("stopping every process", 1)[1]
