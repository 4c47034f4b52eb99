"""The audit trail of a running system (`qyzmet run`): the workers publish records and anchors
on audit.v1; `qyzmet audit verify` and `export` from another folder find the system's key and
database through QYZMET_DATA_DIR (no DATABASE_URL), keep the anchors and pass; a record deleted
by the database's superuser (the head moved back) is named."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from shared.audit.published import published_anchors
from shared.auth.roles import Role
from shared.auth.tokens import issue_token
from shared.infra import KafkaHandle, create_database, drop_database
from tests.intake.conftest import DEPT, unemployed_registration
from tests.system.processes import RUN_ARGV, eventually, run_env, start_run, stop_run
from tests.system.test_qyzmet_run import SECRET

STARTUP_S = 240
"""The whole system starts in a minute or two on a loaded two-core machine."""


@pytest.fixture
def system(database_url: str, broker: KafkaHandle, tmp_path: Path) -> Iterator[dict[str, Any]]:
    name = f"audit_live_{uuid.uuid4().hex[:8]}"
    url = create_database(database_url, name)
    env, ports = run_env(
        url,
        broker,
        tmp_path / "data",
        f"audit{uuid.uuid4().hex[:6]}.",
        SECRET,
        QYZMET_AUDIT_ANCHOR_INTERVAL_S="1",
    )
    env.pop("QYZMET_AUDIT_KEY", None)
    log = (tmp_path / "run.log").open("w+b")
    process = start_run(RUN_ARGV, env, log)
    try:
        yield {"process": process, "ports": ports, "env": env, "url": url, "tmp": tmp_path}
    finally:
        stop_run(process, 60)
        log.close()
        drop_database(database_url, name)


def qyzmet(system: dict[str, Any], *argv: str) -> subprocess.CompletedProcess[str]:
    """A command run from another folder, knowing the broker but neither the key nor the database:
    it finds both through the data dir only (QYZMET_DATA_DIR, no per-user pointer)."""
    env = {k: v for k, v in system["env"].items() if k != "DATABASE_URL"}
    env["XDG_STATE_HOME"] = str(system["tmp"] / "no-state")
    return subprocess.run(
        [sys.executable, "-m", "shared.cli.main", "audit", *argv],
        env=env, cwd=system["tmp"], capture_output=True, text=True, timeout=120,
    )  # fmt: skip


async def _cut_the_tail(url: str, schema: str, chain: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            last: int = await conn.fetchval(
                f"SELECT max(seq) FROM {schema}.audit_log WHERE chain = $1", chain
            )
            await conn.execute(f"DELETE FROM {schema}.audit_log WHERE chain = $1 AND seq = $2", chain, last)
    finally:
        await conn.close()
    return last


def test_a_running_system_publishes_anchors_and_verify_names_a_cut_tail(system: dict[str, Any]) -> None:
    import asyncio

    intake = f"http://127.0.0.1:{system['ports']['intake']}"
    eventually(lambda: httpx.get(f"{intake}/healthz").status_code == 200, "intake /healthz", STARTUP_S)
    clerk = {
        "Authorization": f"Bearer {issue_token(SECRET, subject='clerk-1', role=Role.CLERK, office=DEPT)}"
    }
    talon = httpx.post(f"{intake}/v1/applications", json=unemployed_registration(), headers=clerk)
    assert talon.status_code == 201, talon.text
    assert httpx.get(f"{intake}/v1/applications").status_code == 401
    bootstrap, topic = system["env"]["KAFKA_BOOTSTRAP_SERVERS"], system["env"]["TOPIC_PREFIX"] + "audit.v1"
    eventually(
        lambda: any(
            a.schema == "intake" and a.chain == DEPT and a.seq >= 2
            for a in published_anchors(bootstrap, topic)
        ),
        "an anchor of intake's office chain (the sign-in and the submission)",
        STARTUP_S,
    )
    anchors = system["tmp"] / "kept" / "anchors.jsonl"
    verified = qyzmet(system, "verify", "--anchors", str(anchors))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"intake/{DEPT}: intact" in verified.stdout and "intake/-: intact" in verified.stdout
    assert anchors.exists()

    today = datetime.now(UTC).date()
    exported = qyzmet(
        system, "export", "--from", str(today), "--to", str(today + timedelta(days=1)), "--schema", "intake"
    )
    rows = [json.loads(line) for line in exported.stdout.splitlines()]
    assert {(r["action"], r["outcome"]) for r in rows} >= {
        ("application.submit", "ok"), ("auth.sign_in", "ok"), ("auth.denied", "denied"),
    }  # fmt: skip

    last = asyncio.run(_cut_the_tail(system["url"], "intake", DEPT))
    broken = qyzmet(system, "verify", "--anchors", str(anchors), "--no-kafka")
    assert broken.returncode == 1
    assert f"intake/{DEPT}: BROKEN at record {last}" in broken.stdout
