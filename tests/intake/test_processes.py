"""`qyzmet serve intake-api` and `qyzmet serve intake-worker` as separate processes; no PII in logs."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from shared.contracts.applications import SubmitApplication
from shared.infra import KafkaHandle
from shared.messaging.envelope import Envelope
from tests.intake.conftest import APPLICANT_IIN, DEPT, SECRET, auth, unemployed_registration, wait_for
from tests.roles import role_secret_env

QYZMET = str(Path(sys.executable).with_name("qyzmet"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def process_schema() -> str:
    return f"tp_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[list[tuple[subprocess.Popen[bytes], Path]]]:
    started: list[tuple[subprocess.Popen[bytes], Path]] = []
    yield started
    for proc, _ in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


def _start(
    processes: list[tuple[subprocess.Popen[bytes], Path]], tmp_path: Path, name: str, env: dict[str, str]
) -> Path:
    log = tmp_path / f"{name}.log"
    proc = subprocess.Popen(
        [QYZMET, "serve", name],
        env={**os.environ, **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    processes.append((proc, log))
    return log


async def test_api_and_worker_processes_end_to_end_without_pii_in_logs(
    database_url: str,
    broker: KafkaHandle,
    topic_prefix: str,
    pool: asyncpg.Pool,
    admin_pool: asyncpg.Pool,
    process_schema: str,
    processes: list[tuple[subprocess.Popen[bytes], Path]],
    tmp_path: Path,
) -> None:
    port = _free_port()
    env = {
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "KAFKA_IDEMPOTENT_PRODUCER": "false" if broker.kind == "tansu" else "true",
        "TOPIC_PREFIX": topic_prefix,
        "TOPIC_PARTITIONS": "2",
        "INTAKE_SCHEMA": process_schema,
        "INTAKE_API_PORT": str(port),
        "QYZMET_TOKEN_SECRET": SECRET,
        "QYZMET_DATA_DIR": str(tmp_path / "data"),
        "QYZMET_LOG_LEVEL": "INFO",
        **role_secret_env(),
    }
    api_log = _start(processes, tmp_path, "intake-api", env)
    worker_log = _start(processes, tmp_path, "intake-worker", env)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:

            async def healthy() -> bool:
                try:
                    return (await client.get("/healthz")).status_code == 200
                except httpx.TransportError:
                    return False

            await wait_for(healthy, timeout=30)
            r = await client.post("/v1/applications", json=unemployed_registration(), headers=auth())
            assert r.status_code == 201, r.text
            over_http = r.json()["application_id"]

            # a command through Kafka, handled by the worker process
            command = unemployed_registration()
            envelope = Envelope(
                id=str(uuid.uuid4()),
                source="/office-systems/test",
                type=SubmitApplication.ce_type(),
                data=command,
                correlation_id="proc-corr",
                actor="clerk.officer@" + DEPT,
                office=DEPT,
            )
            raw = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
            await raw.start()
            try:
                await raw.send_and_wait(
                    topic_prefix + "intake.submissions.v1",
                    value=envelope.body(),
                    key=DEPT.encode(),
                    headers=envelope.to_headers(),
                )
            finally:
                await raw.stop()

            async def projected() -> bool:
                async with pool.acquire() as conn:
                    exists = await conn.fetchval(
                        "SELECT EXISTS (SELECT 1 FROM information_schema.tables"
                        " WHERE table_schema = $1 AND table_name = 'applications')",
                        process_schema,
                    )
                    if not exists:
                        return False
                    n: int = await conn.fetchval(
                        f"SELECT count(*) FROM {process_schema}.applications WHERE status = 'submitted'"
                    )
                return n == 2

            await wait_for(projected, timeout=45, interval=0.2)
            status = await client.get(f"/v1/applications/{over_http}", headers=auth())
            assert status.status_code == 200 and status.json()["status"] == "submitted"
    finally:
        for proc, _ in processes:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc, _ in processes:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        async with admin_pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA IF EXISTS {process_schema} CASCADE")
        await asyncio.sleep(0)
    logs = api_log.read_text("utf-8", "replace") + worker_log.read_text("utf-8", "replace")
    assert "submission" in logs
    assert APPLICANT_IIN not in logs
    assert "Нұрланова" not in logs
