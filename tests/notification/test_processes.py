"""`qyzmet serve notification-api` and `qyzmet serve notification-worker` as processes (the
worker on faust, its two agents sharing decisions.v1): a webhook registered over HTTP, the
talon and the decision e-mailed, the webhook signed; no contact or name in any log line."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from services.notification.bootstrap import DECISION_SOURCE
from shared.infra import KafkaHandle
from shared.infra.procs import free_port
from shared.messaging.kafka import make_producer
from tests.roles import role_secret_env

from .conftest import Mailbox
from .events import decided, submitted
from .receiver import Receiver, running
from .test_pipeline import eventually, send
from .test_webhooks import ADMIN, HOOK_SECRET, SECRET

QYZMET = str(Path(sys.executable).with_name("qyzmet"))


def _start(name: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [QYZMET, "serve", name],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


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


async def test_api_and_worker_processes_without_personal_data_in_logs(
    database_url: str, broker: KafkaHandle, topic_prefix: str, admin_pool: asyncpg.Pool,
    smtp: tuple[Mailbox, int], processes: list[subprocess.Popen[bytes]], tmp_path: Path,
) -> None:  # fmt: skip
    mailbox, smtp_port = smtp
    port = free_port()
    schema = f"tn_{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "KAFKA_IDEMPOTENT_PRODUCER": "false" if broker.kind == "tansu" else "true",
        "TOPIC_PREFIX": topic_prefix,
        "TOPIC_PARTITIONS": "2",
        "NOTIFICATION_PG_SCHEMA": schema,
        "NOTIFICATION_API_PORT": str(port),
        "NOTIFICATION_SMTP_PORT": str(smtp_port),
        "NOTIFICATION_DISPATCH_INTERVAL_S": "0.1",
        "NOTIFICATION_WEBHOOK_ALLOW_PRIVATE": "true",  # the test's receiver listens on 127.0.0.1
        "QYZMET_TOKEN_SECRET": SECRET,
        "QYZMET_DATA_DIR": str(tmp_path / "data"),
        **role_secret_env(),
    }
    logs = [tmp_path / "api.log", tmp_path / "worker.log"]
    for name, log in zip(("notification-api", "notification-worker"), logs, strict=True):
        processes.append(_start(name, env, log))
    try:
        async with (
            running(Receiver(HOOK_SECRET)) as receiver,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http,
        ):

            async def healthy() -> bool:
                try:
                    return (await http.get("/healthz")).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(healthy, timeout_s=60)
            r = await http.post(
                "/v1/webhooks", json={"url": receiver.url("/hook"), "secret": HOOK_SECRET}, headers=ADMIN
            )
            assert r.status_code == 201, r.text

            producer = make_producer(broker.bootstrap_servers, idempotent=broker.kind != "tansu")
            await producer.start()
            try:
                app = submitted(language="ru")
                await send(producer, topic_prefix + "applications.v1", app, "/qyzmet/intake")
                await send(
                    producer, topic_prefix + "decisions.v1", decided(app), DECISION_SOURCE, region="astana"
                )
            finally:
                await producer.stop()

            async def arrived() -> bool:
                return len(mailbox.messages) >= 2 and len(receiver.received) >= 1

            await eventually(arrived, timeout_s=90)
            assert receiver.received[0].signature_ok

            async def all_delivered() -> bool:
                params = {"application": app.application_id}
                r = await http.get("/v1/notifications", params=params, headers=ADMIN)
                return {n["state"] for n in r.json()["notifications"]} == {"DELIVERED"}

            await eventually(all_delivered)
    finally:
        for proc in processes:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in processes:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        async with admin_pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await asyncio.sleep(0)
    text = "".join(log.read_text("utf-8", "replace") for log in logs)
    assert "delivery attempt" in text and "webhook attempt" in text
    for personal in ("aigul.nurlanova@example.kz", "+77012345678", "Нұрланова", "850412300017", HOOK_SECRET):
        assert personal not in text
