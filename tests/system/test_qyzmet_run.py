"""`qyzmet run` (what `make run` starts): every process up, an application flows from the intake
API through Kafka into a decision case, a command run from a second shell in another folder
finds the system's database without DATABASE_URL (and no password was written down for it), and
Ctrl-C stops everything cleanly, with no personal data in any log line."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from shared.auth.roles import Role
from shared.auth.tokens import issue_token
from shared.infra import KafkaHandle, create_database, drop_database
from tests.intake.conftest import APPLICANT_IIN, DEPT, unemployed_registration
from tests.system.processes import RUN_ARGV, eventually, run_env, start_run, stop_run

SECRET = "system-test-secret-" + "s" * 32
PASSWORD = "not-written-down-" + uuid.uuid4().hex[:8]


def _with_password(url: str) -> tuple[str, str]:
    """The test database's URL with a password in it (the server trusts local connections and
    ignores it, unless the URL already has one, which is then kept), and that password."""
    scheme, rest = url.split("://", 1)
    userinfo, _, hosts = rest.rpartition("@")
    if ":" in userinfo:
        return url, userinfo.split(":", 1)[1]
    return f"{scheme}://{userinfo or 'postgres'}:{PASSWORD}@{hosts}", PASSWORD


def _second_shell(system: dict[str, Any], *argv: str) -> subprocess.CompletedProcess[str]:
    """A `qyzmet` command in another shell and folder: no DATABASE_URL, no QYZMET_DATA_DIR, the
    password only where libpq looks for it (PGPASSWORD); the same user (XDG_STATE_HOME)."""
    env = {k: v for k, v in system["env"].items() if k not in ("DATABASE_URL", "QYZMET_DATA_DIR")}
    env["PGPASSWORD"] = system["password"]
    elsewhere = system["data"].parent / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "shared.cli.main", *argv],
        env=env, cwd=elsewhere, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


async def _users_connected(admin_url: str, database: str) -> set[str]:
    """The users connected to `database`, seen from another database."""
    conn = await asyncpg.connect(admin_url)
    try:
        rows = await conn.fetch(
            "SELECT DISTINCT usename FROM pg_stat_activity"
            " WHERE datname = $1 AND backend_type = 'client backend'",
            database,
        )
    finally:
        await conn.close()
    return {row["usename"] for row in rows}


@pytest.fixture
def system(database_url: str, broker: KafkaHandle, tmp_path: Path) -> Iterator[dict[str, Any]]:
    name = f"qyzmet_run_{uuid.uuid4().hex[:8]}"
    url, password = _with_password(create_database(database_url, name))
    prefix = f"run{uuid.uuid4().hex[:6]}."
    env, ports = run_env(
        url, broker, tmp_path / "data", prefix, SECRET, XDG_STATE_HOME=str(tmp_path / "state")
    )
    log = (tmp_path / "run.log").open("w+b")
    process = start_run(RUN_ARGV, env, log)
    try:
        yield {
            "process": process, "ports": ports, "log": log, "prefix": prefix, "data": tmp_path / "data",
            "database": name, "admin_url": database_url, "env": env, "password": password,
        }  # fmt: skip
    finally:
        stop_run(process)
        log.close()
        drop_database(database_url, name)


def _log_text(system: dict[str, Any]) -> str:
    system["log"].flush()
    system["log"].seek(0)
    return str(system["log"].read().decode("utf-8", "replace"))


def test_application_flows_from_intake_to_a_decision_case(system: dict[str, Any]) -> None:
    # The run says it is running once, when every API answers (not as soon as it spawned them).
    eventually(lambda: "Qyzmet is running" in _log_text(system), "the run to say it is running", 400)
    for service, port in system["ports"].items():
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200, service
    intake = f"http://127.0.0.1:{system['ports']['intake']}"
    decision = f"http://127.0.0.1:{system['ports']['decision']}"
    for base in (intake, decision):
        eventually(lambda base=base: httpx.get(f"{base}/healthz").status_code == 200, f"{base}/healthz", 60)
    clerk = {
        "Authorization": f"Bearer {issue_token(SECRET, subject='clerk-1', role=Role.CLERK, office=DEPT)}"
    }
    head = {"Authorization": f"Bearer {issue_token(SECRET, subject='head-1', role=Role.HEAD, office=DEPT)}"}

    talon = httpx.post(f"{intake}/v1/applications", json=unemployed_registration(), headers=clerk)
    assert talon.status_code == 201, talon.text
    application_id = talon.json()["application_id"]

    case = eventually(
        lambda: (
            (r := httpx.get(f"{decision}/v1/cases/{application_id}", headers=head)).status_code == 200
            and r.json()
        ),
        "the decision case",
        60,
    )
    assert case["service_id"] == "unemployed_registration"
    assert case["office_id"] == DEPT
    status = eventually(
        lambda: (
            (r := httpx.get(f"{intake}/v1/applications/{application_id}", headers=clerk)).status_code == 200
            and r.json()
        ),
        "the intake projection",
        10,
    )
    assert status["status"] == "submitted"
    # A second shell, in another folder, without DATABASE_URL: the running system's database.
    shown = _second_shell(system, "status", application_id)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "status: submitted" in shown.stdout and "using the running system's database" in shown.stderr
    recorded = json.loads((system["data"] / "system.json").read_text(encoding="utf-8"))
    assert recorded["database_url"].endswith(f"/{system['database']}")
    for written in ("system.json", "infra.json"):
        assert system["password"] not in (system["data"] / written).read_text(encoding="utf-8"), written
    nowhere = _second_shell(
        {**system, "env": {**system["env"], "XDG_STATE_HOME": os.devnull}}, "status", application_id
    )
    assert nowhere.returncode == 2 and "no running system was found" in nowhere.stderr
    # Least privilege: every process connects as its service's own login role, none as the
    # administrator (the superuser of DATABASE_URL).
    users = asyncio.run(_users_connected(system["admin_url"], system["database"]))
    assert {"qyzmet_intake", "qyzmet_decision", "qyzmet_notification", "qyzmet_complaints"} <= users
    assert all(user.startswith("qyzmet_") for user in users), users

    process: subprocess.Popen[bytes] = system["process"]
    process.send_signal(signal.SIGINT)
    assert process.wait(60) == 0
    system["log"].seek(0)
    output = system["log"].read().decode("utf-8", "replace")
    assert "Unclosed AIOKafkaProducer" not in output
    # The workers' faust data lives in the system's data directory, never in the working directory.
    assert not list(Path.cwd().glob(system["prefix"] + "*-data"))
    assert list((system["data"] / "faust").glob(system["prefix"] + "*"))
    assert "Traceback" not in output
    assert APPLICANT_IIN not in output
    assert "Нұрланова" not in output
    # Every line of every process (the run's own, the APIs', the faust workers') is one JSON object:
    # no terminal codes glued to a line, no plain-text banner in a log file.
    lines = [line for line in output.splitlines() if line.strip()]
    for line in lines:
        try:
            assert isinstance(json.loads(line), dict), line
        except ValueError:
            raise AssertionError(f"not a JSON line: {line!r}") from None
    events = [str(json.loads(line).get("event", "")) for line in lines]
    running = [n for n, event in enumerate(events) if event.startswith("Qyzmet is running")]
    waiting = [n for n, event in enumerate(events) if event.startswith("started every process; waiting")]
    assert len(running) == 1 and waiting and waiting[0] < running[0], (waiting, running)
