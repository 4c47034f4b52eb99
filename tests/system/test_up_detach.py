"""`qyzmet up --detach` from a folder of its own: the command returns once the system serves, the
running-system record holds the background supervisor's pid, the simulated offices' applications
flow (more and more of them, at least one decided), the simulator's and the supervisor's `/metrics`
are recorded, a second shell's `qyzmet report quality` finds the system's database without
DATABASE_URL (and its `qyzmet token`, lacking the QYZMET_TOKEN_SECRET the system was started
with, stops with exit 2 rather than make a secret the services refuse), a second `qyzmet run` on
the same data directory is refused, and `qyzmet down` stops every process - the supervisor, each
service process, the simulator and the broker it started - and waits for them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.auth.roles import Role
from shared.auth.tokens import issue_token
from shared.infra import create_database, drop_database
from shared.infra.procs import free_ports, iter_procs, port_accepts, wait_until_gone
from tests.system.processes import eventually

SECRET = "up-detach-secret-" + "u" * 32
SERVICES = ("intake", "decision", "notification", "complaints", "console")


def _qyzmet(env: dict[str, str], cwd: Path, *argv: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.cli.main", *argv],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def setting(database_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    name = f"up_detach_{uuid.uuid4().hex[:8]}"
    url = create_database(database_url, name)
    *api_ports, kafka_port = free_ports(len(SERVICES) + 1)
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "QYZMET_TOKEN_SECRET")}
    env.update(
        {
            "DATABASE_URL": url,
            "KAFKA_LOCAL_PORT": str(kafka_port),  # its own broker, which `down` must stop
            "QYZMET_NO_DOCKER": "1",
            "QYZMET_DATA_DIR": str(tmp_path / "data"),
            "XDG_STATE_HOME": str(tmp_path / "state"),
            "QYZMET_TOKEN_SECRET": SECRET,
            "TOPIC_PREFIX": f"up{uuid.uuid4().hex[:6]}.",
            **{f"{svc.upper()}_API_PORT": str(port) for svc, port in zip(SERVICES, api_ports, strict=True)},
        }
    )
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    try:
        yield {"env": env, "cwd": folder, "data": tmp_path / "data", "kafka_port": kafka_port}
    finally:
        _qyzmet(env, folder, "down", timeout=180)  # whatever the test did, nothing is left running
        drop_database(database_url, name)


def _applications(intake: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    answer = httpx.get(f"{intake}/v1/applications", params={"limit": 200}, headers=headers, timeout=10)
    answer.raise_for_status()
    return answer.json()["items"]  # type: ignore[no-any-return]


def test_up_detached_serves_simulated_offices_and_down_leaves_nothing(setting: dict[str, Any]) -> None:
    env, cwd, data = setting["env"], setting["cwd"], setting["data"]
    up = _qyzmet(env, cwd, "up", "--detach", "--rate", "4", timeout=300)
    log_file = data / "logs" / "run.log"
    assert up.returncode == 0, up.stderr + (log_file.read_text() if log_file.exists() else "")
    assert f"http://127.0.0.1:{env['INTAKE_API_PORT']}" in up.stdout
    console = rf"^console +http://127\.0\.0\.1:{env['CONSOLE_API_PORT']}/$"  # its own page, not /docs
    assert re.search(console, up.stdout, re.M), up.stdout
    record = json.loads((data / "system.json").read_text())
    assert record["token_secret_from_env"] is True and SECRET not in json.dumps(record)
    supervisor = record["pid"]
    session = [p.pid for p in iter_procs() if p.sid == supervisor and p.alive]
    assert supervisor in session and len(session) >= 9, session  # run, 8 service processes, simulator

    intake = f"http://127.0.0.1:{env['INTAKE_API_PORT']}"
    token = issue_token(SECRET, subject="auditor-1", role=Role.AUDITOR, office="ministry")
    auditor = {"Authorization": f"Bearer {token}"}
    first = eventually(
        lambda: len(_applications(intake, auditor)), "the simulator's first talons", 120, interval_s=1
    )
    eventually(lambda: len(_applications(intake, auditor)) > first, "more talons", 120, interval_s=1)
    decided = eventually(
        lambda: [a for a in _applications(intake, auditor) if a["decision"] is not None],
        "a decision on a simulated application",
        240,
        interval_s=1,
    )
    assert decided[0]["decision"]["outcome"] in ("approved", "refused", "information")
    log = log_file.read_text()
    assert '"process": "simulator"' in log and "simulator " in log
    assert '"process": "qyzmet-run"' in log
    metrics = json.loads((data / "system.json").read_text())["metrics_urls"]
    assert {"simulator", "qyzmet-run"} <= set(metrics), metrics
    simulated = httpx.get(metrics["simulator"]).text
    assert re.search(
        r'^qyzmet_simulator_applications_total\{[^}]*outcome="accepted"[^}]*\} [1-9]', simulated, re.M
    )
    assert re.search(
        r"^qyzmet_supervisor_processes_running [1-9]", httpx.get(metrics["qyzmet-run"]).text, re.M
    )

    second_shell = {k: v for k, v in env.items() if k not in ("DATABASE_URL", "QYZMET_DATA_DIR")}
    today = date.today().isoformat()
    report = _qyzmet(second_shell, cwd, "report", "quality", "--from", today, "--to", today, timeout=120)
    assert report.returncode == 0, report.stderr
    assert "using the running system's database" in report.stderr and report.stdout.strip()
    no_secret = {k: v for k, v in second_shell.items() if k != "QYZMET_TOKEN_SECRET"}
    token = _qyzmet(no_secret, cwd, "token", "--role", "clerk", "--office", "karaganda-dept-01", timeout=60)
    assert token.returncode == 2 and "set QYZMET_TOKEN_SECRET" in token.stderr, token.stderr
    assert not (data / "token_secret").exists()  # no secret the services would refuse
    again_run = _qyzmet(env, cwd, "run", "--no-simulator", timeout=120)
    assert again_run.returncode == 1 and "a system already runs from" in again_run.stderr, again_run.stderr
    assert json.loads((data / "system.json").read_text())["pid"] == supervisor

    down = _qyzmet(env, cwd, "down", timeout=180)
    assert down.returncode == 0, down.stderr
    assert "stopped the system" in down.stderr
    assert wait_until_gone(session, 10) == []
    assert not (data / "system.json").exists()
    assert not port_accepts(setting["kafka_port"]), "the broker the system started is stopped"
    for svc in ("intake", "decision", "complaints"):
        assert not port_accepts(int(env[f"{svc.upper()}_API_PORT"]))
    again = _qyzmet(env, cwd, "down", timeout=60)
    assert again.returncode == 0 and "no running system" in again.stderr
