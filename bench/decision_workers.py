"""Decision worker processes side by side (`qyzmet serve decision-worker`, distinct
`QYZMET_INSTANCE`) on one database and topic prefix: start them, feed applications.v1 with
automated applications, count what they decided. Used by the scale-out bench and its test."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from aiokafka.admin import AIOKafkaAdminClient

from shared.contracts.applications import Applicant, ApplicationSubmitted
from shared.infra.procs import free_ports
from shared.messaging.envelope import Envelope
from shared.messaging.kafka import make_producer

SERVICE = "pension_savings_account_info"
EDITION = "kz_std_393_new_2012"
HANDLED = re.compile(
    r'qyzmet_consumer_records_total\{consumer="decision-applications",outcome="handled"\} (\S+)'
)


def application(i: int) -> ApplicationSubmitted:
    received = datetime(2013, 3, 1, 5, 0, tzinfo=UTC) + timedelta(seconds=i)
    aid = uuid.uuid4().hex
    return ApplicationSubmitted(
        application_id=aid,
        registration_number=f"S-{i}",
        service_id=SERVICE,
        edition_id=EDITION,
        edition_basis="adoption",
        channel="tson",
        office_id="astana-tson-1",
        region="astana",
        received_by="operator-1",
        received_at=received,
        due_at=received + timedelta(minutes=10),
        applicant=Applicant(iin="900101300123", full_name="Bench Applicant"),
        documents=[],
        idempotency_key=aid,
    )


async def produce(bootstrap: str, topic: str, count: int) -> list[str]:
    """`count` ApplicationSubmitted on `topic`, keyed by application id; their ids."""
    return [aid for aid, _ in await produce_placed(bootstrap, topic, count)]


async def produce_placed(bootstrap: str, topic: str, count: int) -> list[tuple[str, int]]:
    """`produce`, each id with the partition it went to, in the order of each partition."""
    producer = make_producer(bootstrap)
    await producer.start()
    ids = []
    try:
        futures = []
        for i in range(count):
            event = application(i)
            ids.append(event.application_id)
            envelope = Envelope(
                id=str(uuid.uuid4()),
                source="/bench/intake",
                type=event.ce_type(),
                data=event.model_dump(mode="json"),
                subject=event.application_id,
            )
            futures.append(
                await producer.send(
                    topic,
                    value=envelope.body(),
                    key=event.application_id.encode(),
                    headers=envelope.to_headers(),
                )
            )
        placed = await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return [
        (aid, meta.partition)
        for aid, meta in sorted(zip(ids, placed, strict=True), key=lambda p: (p[1].partition, p[1].offset))
    ]


async def decided(conn: asyncpg.Connection, schema: str = "decision") -> dict[str, int]:
    """DecisionMade events stored per application."""
    rows = await conn.fetch(
        f"SELECT data->>'application_id' AS aid, count(*) AS n FROM {schema}.events"
        " WHERE event_type = 'decision.made' GROUP BY 1"
    )
    return {row["aid"]: row["n"] for row in rows}


@dataclass
class Worker:
    instance: int
    process: subprocess.Popen[bytes]
    metrics_port: int

    def handled(self) -> float:
        """Records its decision consumer handled (its /metrics), 0 if it does not answer yet."""
        try:
            text = httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=2).text
        except httpx.HTTPError:
            return 0.0
        match = HANDLED.search(text)
        return float(match.group(1)) if match else 0.0


@contextmanager
def decision_workers(count: int, env: dict[str, str], log_dir: Path) -> Iterator[list[Worker]]:
    """`count` decision worker processes (instances 0..count-1), stopped with SIGTERM at the end."""
    workers: list[Worker] = []
    log_dir.mkdir(parents=True, exist_ok=True)
    try:
        for instance, port in zip(range(count), free_ports(count), strict=True):
            with (log_dir / f"decision-worker-{instance}.log").open("wb") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", "shared.cli.main", "serve", "decision-worker"],
                    env={
                        **os.environ,
                        **env,
                        "QYZMET_INSTANCE": str(instance),
                        "QYZMET_METRICS_PORT": str(port),
                    },
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            workers.append(Worker(instance, process, port))
            _wait_metrics(workers[-1], 180)  # one at a time: the first one migrates the schema
        yield workers
    finally:
        for worker in workers:
            if worker.process.poll() is None:
                os.killpg(worker.process.pid, signal.SIGTERM)
        for worker in workers:
            try:
                worker.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.process.pid, signal.SIGKILL)
                worker.process.wait(10)


def wait_for_group(bootstrap: str, group_id: str, members: int, timeout: float = 180.0) -> None:
    """Until the consumer group is stable with `members` members (each then holds partitions):
    records produced before the second worker joined would all go to the first."""

    async def describe() -> tuple[str, int]:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        await admin.start()
        try:
            [response] = await admin.describe_consumer_groups([group_id])
            group = response.groups[0]  # (error, group id, state, protocol type, protocol, members, ...)
            return str(group[2]), len(group[5])
        finally:
            await admin.close()

    deadline = time.monotonic() + timeout
    seen: tuple[str, int] = ("", 0)
    with ThreadPoolExecutor(1) as pool:  # callable from sync code and from inside a running loop
        while time.monotonic() < deadline:
            try:
                seen = pool.submit(asyncio.run, describe()).result()
            except Exception:  # noqa: S110 - the coordinator may not know the group yet
                pass
            if seen == ("Stable", members):
                return
            time.sleep(0.5)
    raise RuntimeError(f"consumer group {group_id} not stable with {members} members: {seen}")


def _wait_metrics(worker: Worker, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.process.poll() is not None:
            raise RuntimeError(f"decision worker {worker.instance} exited ({worker.process.returncode})")
        try:
            if httpx.get(f"http://127.0.0.1:{worker.metrics_port}/metrics", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"decision worker {worker.instance} did not start")
