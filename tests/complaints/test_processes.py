"""`qyzmet serve complaints-api` and `qyzmet serve complaints-worker` as separate processes: the
worker learns the application from applications.v1 / decisions.v1, registers a complaint sent on
complaints.submissions.v1, and relays the upheld outcome to complaints.v1; no personal data in
the logs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from shared.auth.roles import Role
from shared.contracts.complaints import FileComplaint
from shared.contracts.event import DomainEvent
from shared.infra import KafkaHandle
from shared.infra.procs import free_port
from shared.messaging.envelope import Envelope, decode
from tests.complaints.conftest import (
    DEPT,
    REGISTERED_AT,
    REVIEWING,
    SECRET,
    auth,
    complaint_body,
    decided,
    submitted,
)
from tests.complaints.test_pipeline import _drain
from tests.intake.conftest import wait_for
from tests.roles import role_secret_env

QYZMET = str(Path(sys.executable).with_name("qyzmet"))


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in started:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def _start(name: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [QYZMET, "serve", name],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _envelope(event: DomainEvent) -> Envelope:
    return Envelope(
        id=str(uuid.uuid4()), source="/office-systems/test", type=type(event).ce_type(),
        data=event.model_dump(mode="json"), correlation_id="proc-" + uuid.uuid4().hex[:6],
        actor="clerk.officer@" + DEPT, office=DEPT,
    )  # fmt: skip


async def test_api_and_worker_processes_end_to_end_without_pii_in_logs(
    database_url: str,
    broker: KafkaHandle,
    topic_prefix: str,
    pool: asyncpg.Pool,
    admin_pool: asyncpg.Pool,
    processes: list[subprocess.Popen[bytes]],
    tmp_path: Path,
) -> None:
    schema, port = f"tcp_{uuid.uuid4().hex[:12]}", free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "KAFKA_IDEMPOTENT_PRODUCER": "false" if broker.kind == "tansu" else "true",
        "TOPIC_PREFIX": topic_prefix, "TOPIC_PARTITIONS": "2", "COMPLAINTS_SCHEMA": schema,
        "COMPLAINTS_API_PORT": str(port), "QYZMET_TOKEN_SECRET": SECRET,
        "QYZMET_DATA_DIR": str(tmp_path / "data"), "QYZMET_LOG_LEVEL": "INFO",
        **role_secret_env(),
    }  # fmt: skip
    logs = [tmp_path / "api.log", tmp_path / "worker.log"]
    for name, log in zip(("complaints-api", "complaints-worker"), logs, strict=True):
        processes.append(_start(name, env, log))
    application = submitted()
    command = FileComplaint.model_validate(complaint_body(application.application_id))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:

            async def healthy() -> bool:
                try:
                    return (await client.get("/healthz")).status_code == 200
                except httpx.TransportError:
                    return False

            await wait_for(healthy, timeout=30)
            raw = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
            await raw.start()
            try:
                for topic, event in (
                    ("applications.v1", application),
                    ("decisions.v1", decided(application, REGISTERED_AT - timedelta(days=3))),
                ):
                    envelope = _envelope(event)
                    await raw.send_and_wait(
                        topic_prefix + topic, value=envelope.body(), headers=envelope.to_headers()
                    )

                async def known() -> bool:
                    async with pool.acquire() as conn:
                        table = await conn.fetchval("SELECT to_regclass($1)", f"{schema}.known_applications")
                        return table is not None and bool(
                            await conn.fetchval(
                                f"SELECT count(*) FROM {schema}.known_applications WHERE state = 'decided'"
                            )
                        )

                await wait_for(known, timeout=60, interval=0.2)
                envelope = _envelope(command)
                await raw.send_and_wait(
                    topic_prefix + "complaints.submissions.v1", value=envelope.body(), key=DEPT.encode(),
                    headers=envelope.to_headers(),
                )  # fmt: skip
            finally:
                await raw.stop()

            async def registered() -> list[dict[str, object]]:
                url = f"/v1/complaints?application={application.application_id}"
                items: list[dict[str, object]] = (await client.get(url, headers=auth())).json()["items"]
                return items

            items = await wait_for(registered, timeout=30, interval=0.2)
            resolved = await client.post(
                f"/v1/complaints/{items[0]['complaint_id']}/resolution",
                json={"outcome": "upheld", "reasoning": "recount"},
                headers=auth(Role.REVIEWER, REVIEWING),
            )
            assert resolved.status_code == 200, resolved.text
        records = await _drain(broker.bootstrap_servers, topic_prefix + "complaints.v1", 2, timeout_s=45)
        types = [decode(r.value, list(r.headers)).type for r in records]
        assert types == ["kz.qyzmet.complaint.registered.v1", "kz.qyzmet.complaint.resolved.v1"]
    finally:
        for proc in processes:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in processes:
            proc.wait(15)
        async with admin_pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    text = "".join(log.read_text("utf-8", "replace") for log in logs)
    assert "complaint" in text
    assert "Айгүл" not in text and "850412300017" not in text and "Шешіммен" not in text
