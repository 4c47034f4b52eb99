"""Intake benchmarks: accepted submissions/s over HTTP and over Kafka, each next to a raw baseline.

HTTP: the intake API (validation against the catalog, events + idempotency key + registration
number + audit record in one transaction) against a FastAPI endpoint that only inserts one row;
both served by uvicorn on this machine, each in its own process, driven by the same concurrent
client. The client is aiohttp's: httpx took 1.2-3.6 ms of CPU per request here, and varied from
run to run, so with it both servers waited on the client (the baseline ran at 300-460/s; with
aiohttp, 0.15 ms per request, it runs at ~3,000/s) and the ratio measured the client. One office,
four offices (each client submits for one of them) and the baseline run in three rounds, the
order rotating each round; each row is the median of its three. Each HTTP row also records each
server's CPU milliseconds per accepted request, the client's, and the load average (the machine
is shared: the rates move with others' load, the CPU per request much less).
Kafka: the intake command consumer (inbox, the same use case, commit) against a raw aiokafka
loop that consumes and inserts one row per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import httpx
from fastapi import FastAPI

from bench.system import CpuReading, cpu_seconds, sum_or_none
from services.intake.bootstrap import SUBMISSIONS_TOPIC, build, migrate
from services.intake.domain.identity import make_iin
from services.intake.entrypoints.kafka_submissions import submission_consumer
from shared.auth.roles import Role
from shared.auth.tokens import issue_token
from shared.contracts.applications import SubmitApplication
from shared.db.pool import create_pool
from shared.messaging.consumer import Outcome
from shared.messaging.envelope import Envelope
from shared.messaging.kafka import make_consumer, make_producer
from shared.messaging.topics import TopicSpec, delete_topics, dlq_of, ensure_topics
from shared.messaging.worker import consume_until

Row = dict[str, Any]
SECRET = "bench-secret-" + "x" * 40
OFFICE = "karaganda-dept-01"
OFFICES = ("karaganda-dept-01", "akmola-dept-01", "almaty-city-dept-01", "astana-dept-01")
"""The several-offices run: each concurrent client submits for one of these, in turn."""
TARGET = 0.8
"""Issue 14's target for one office: this share of the one-row endpoint's rate."""
HTTP_SECONDS = 4.0
HTTP_ROUNDS = 3
HTTP_CONCURRENCY = 32
KAFKA_MESSAGES = 1000
IIN = make_iin(date(1985, 4, 12), 17)


def _submission(office: str = OFFICE) -> dict[str, Any]:
    return {
        "idempotency_key": str(uuid.uuid4()),
        "service_id": "unemployed_registration",
        "channel": "department",
        "office_id": office,
        "applicant": {"iin": IIN, "full_name": "Айгүл Нұрланова", "contacts": {"phone": "+7 701 000 00 00"}},
        "documents": [
            {"document_id": d}
            for d in (
                "identity_card",
                "labour_activity_documents",
                "sic_certificate",
                "taxpayer_number",
                "income_statement",
            )
        ],
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


@dataclass(frozen=True)
class _Drive:
    rate: float
    """Accepted (201) requests per second."""
    server_cpu_ms: float | None
    """The server process's CPU milliseconds per accepted request while driven."""
    client_cpu_ms: float
    """The load generator's CPU milliseconds per accepted request (this process)."""
    postgres_cpu_ms: float | None
    """PostgreSQL's CPU milliseconds per accepted request (all its processes on this machine)."""


def _median(drives: list[_Drive]) -> _Drive:
    """The median round by rate (its CPU figures with it)."""
    return sorted(drives, key=lambda d: d.rate)[len(drives) // 2]


class _Server:
    """A server in its own process (one process per side: no GIL shared with the load generator)."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.port = _free_port()
        self.args = args
        self.env = {**os.environ, **env, "INTAKE_API_PORT": str(self.port), "BENCH_PORT": str(self.port)}
        self.proc: subprocess.Popen[bytes] | None = None

    async def __aenter__(self) -> str:
        args = [a.replace("{port}", str(self.port)) for a in self.args]
        self.proc = _spawn(args, self.env)
        url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 90  # a loaded machine starts a server slowly
        async with httpx.AsyncClient(base_url=url) as client:
            while True:
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        return url
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"server {args} did not start")
                await asyncio.sleep(0.1)

    async def __aexit__(self, *_: object) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            await asyncio.to_thread(self.proc.wait, 15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


def baseline_app() -> FastAPI:
    """The raw HTTP baseline: a FastAPI endpoint that only inserts one row (uvicorn --factory)."""
    database_url, schema = os.environ["BENCH_DATABASE_URL"], os.environ["BENCH_SCHEMA"]
    state: dict[str, asyncpg.Pool] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state["pool"] = await create_pool(database_url, min_size=2, max_size=20)
        yield
        await state["pool"].close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/raw", status_code=201)
    async def insert(body: dict[str, Any]) -> dict[str, str]:
        row_id = uuid.uuid4()
        async with state["pool"].acquire() as conn:
            await conn.execute(
                f"INSERT INTO {schema}.raw_submissions (id, body) VALUES ($1, $2)", row_id, body
            )
        return {"id": str(row_id)}

    return app


async def _drive(
    server: _Server,
    url: str,
    path: str,
    seconds: float,
    offices: dict[str, dict[str, str]],
) -> _Drive:
    """Accepted (201) requests per second from HTTP_CONCURRENCY concurrent clients, and the CPU
    per accepted request of the server and of this client; `offices` maps an office to its
    headers, and client i submits for office i mod len(offices)."""
    accepted = 0
    failed = 0
    per_client = [
        (office, {**headers, "Content-Type": "application/json"}) for office, headers in offices.items()
    ]
    refusals: set[str] = set()

    async def post(client: aiohttp.ClientSession, office: str, headers: dict[str, str]) -> int:
        async with client.post(path, data=json.dumps(_submission(office)), headers=headers) as response:
            body = await response.read()
            if response.status != 201:
                refusals.add(f"{response.status} {body[:200]!r}")
            return response.status

    async with aiohttp.ClientSession(
        base_url=url,
        connector=aiohttp.TCPConnector(limit=HTTP_CONCURRENCY),
        timeout=aiohttp.ClientTimeout(total=30),
    ) as client:
        for i in range(20):  # warm-up
            await post(client, *per_client[i % len(per_client)])
        deadline = time.perf_counter() + seconds

        async def worker(office: str, headers: dict[str, str]) -> None:
            nonlocal accepted, failed
            while time.perf_counter() < deadline:
                if await post(client, office, headers) == 201:
                    accepted += 1
                else:
                    failed += 1

        assert server.proc is not None
        before, cpu_before = CpuReading.now(), cpu_seconds(server.proc.pid)
        started = time.perf_counter()
        await asyncio.gather(*[worker(*per_client[i % len(per_client)]) for i in range(HTTP_CONCURRENCY)])
        elapsed = time.perf_counter() - started
        cpu_after, after = cpu_seconds(server.proc.pid), CpuReading.now()
    if failed or not accepted:
        raise RuntimeError(f"{failed} requests were not accepted: {sorted(refusals)[:3]}")
    cpu_ms = None
    if cpu_before is not None and cpu_after is not None:
        cpu_ms = round(1000 * (cpu_after - cpu_before) / accepted, 2)
    spent = before.per_unit_until(after, accepted)  # this process's is the client's
    return _Drive(accepted / elapsed, cpu_ms, round(spent["process"] or 0.0, 2), spent["postgres"])


def _clerk(office: str) -> dict[str, str]:
    token = issue_token(SECRET, subject="bench.clerk", role=Role.CLERK, office=office)
    return {"Authorization": f"Bearer {token}"}


async def _http(database_url: str, schema: str) -> tuple[_Drive, _Drive, _Drive, float]:
    """One office, four offices and the baseline: HTTP_ROUNDS rounds, the order rotating, medians."""
    python = sys.executable
    intake = _Server(
        [str(Path(python).with_name("qyzmet")), "serve", "intake-api"],
        {
            "DATABASE_URL": database_url,
            "INTAKE_SCHEMA": schema,
            "QYZMET_TOKEN_SECRET": SECRET,
            "QYZMET_LOG_LEVEL": "WARNING",  # as the system benchmarks run it: no line per request
        },
    )
    baseline = _Server(
        [
            python,
            "-m",
            "uvicorn",
            "--factory",
            "bench.intake_bench:baseline_app",
            "--port",
            "{port}",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        {"BENCH_DATABASE_URL": database_url, "BENCH_SCHEMA": schema},
    )
    one_office = {OFFICE: _clerk(OFFICE)}
    several = {office: _clerk(office) for office in OFFICES}
    async with intake as intake_url, baseline as baseline_url:
        sides: list[tuple[str, _Server, str, str, dict[str, dict[str, str]]]] = [
            ("one", intake, intake_url, "/v1/applications", one_office),
            ("several", intake, intake_url, "/v1/applications", several),
            ("raw", baseline, baseline_url, "/raw", {OFFICE: {}}),
        ]
        rounds: dict[str, list[_Drive]] = {name: [] for name, *_ in sides}
        for round_no in range(HTTP_ROUNDS):
            for name, server, url, path, offices in sides[round_no:] + sides[:round_no]:
                rounds[name].append(await _drive(server, url, path, HTTP_SECONDS, offices))
    return (
        _median(rounds["one"]),
        _median(rounds["several"]),
        _median(rounds["raw"]),
        os.getloadavg()[0],
    )


async def _produce(bootstrap: str, topic: str, count: int) -> None:
    producer = make_producer(bootstrap, idempotent=False)
    await producer.start()
    try:
        futures = []
        for _ in range(count):
            envelope = Envelope(
                id=str(uuid.uuid4()),
                source="/bench/office-system",
                type=SubmitApplication.ce_type(),
                data=_submission(),
                actor="bench.clerk",
                office=OFFICE,
            )
            futures.append(
                await producer.send(
                    topic, value=envelope.body(), key=OFFICE.encode(), headers=envelope.to_headers()
                )
            )
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def _kafka_intake(
    pool: asyncpg.Pool, schema: str, bootstrap: str, topic: str, idempotent: bool
) -> float:
    deps = build(pool, schema)
    submitted = f"SELECT count(*) FROM {schema}.events WHERE event_type = 'application.submitted'"
    async with pool.acquire() as conn:
        before: int = await conn.fetchval(submitted)  # the HTTP runs' applications are not this run's
    producer = make_producer(bootstrap, idempotent=idempotent)
    await producer.start()
    consumer = make_consumer(bootstrap, [topic], group_id=topic + ".g", instance_id=topic + ".g-0")
    await consumer.start()
    handler = submission_consumer(pool, schema, deps.service, producer)
    stop = asyncio.Event()
    started = time.perf_counter()
    task = asyncio.create_task(consume_until(consumer, handler, stop))
    try:
        while handler.counts[Outcome.HANDLED] + handler.counts[Outcome.DEAD_LETTERED] < KAFKA_MESSAGES:
            if time.perf_counter() - started > 60:
                raise RuntimeError("intake consumer too slow")
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - started
    finally:
        stop.set()
        await task
        await consumer.stop()
        await producer.stop()
    if handler.counts[Outcome.DEAD_LETTERED]:
        raise RuntimeError("bench commands were dead-lettered")
    async with pool.acquire() as conn:
        accepted: int = await conn.fetchval(submitted) - before
    if accepted != KAFKA_MESSAGES:
        raise RuntimeError(f"{accepted} of {KAFKA_MESSAGES} bench commands were accepted")
    return accepted / elapsed


async def _kafka_raw(pool: asyncpg.Pool, schema: str, bootstrap: str, topic: str) -> float:
    consumer = make_consumer(bootstrap, [topic], group_id=topic + ".raw", instance_id=None)
    await consumer.start()
    handled = 0
    started = time.perf_counter()
    try:
        while handled < KAFKA_MESSAGES:
            if time.perf_counter() - started > 60:
                raise RuntimeError("raw consumer too slow")
            batches = await consumer.getmany(timeout_ms=200, max_records=500)
            for records in batches.values():
                for record in records:
                    async with pool.acquire() as conn:
                        await conn.execute(
                            f"INSERT INTO {schema}.raw_submissions (id, body) VALUES ($1, $2::text::jsonb)",
                            uuid.uuid4(),
                            (record.value or b"{}").decode(),
                        )
                    handled += 1
            await consumer.commit()
        elapsed = time.perf_counter() - started
    finally:
        await consumer.stop()
    return handled / elapsed


def _cpu(side: _Drive, baseline: _Drive, load: float, *, at_target: bool = True) -> Row:
    """Beside an HTTP row: each server's, the client's and PostgreSQL's CPU per accepted request
    and the load average at the end; `at_target`: also the cores this side would take at the
    target's rate (TARGET x the baseline's) at this CPU per request, all of it (the load
    generator's too: the bench's client runs on the same cores) and the server's and
    PostgreSQL's apart. The machine has `cores`; the server is one process (one core at most)."""
    row: Row = {
        "server_cpu_ms_per_request": side.server_cpu_ms,
        "baseline_server_cpu_ms_per_request": baseline.server_cpu_ms,
        "client_cpu_ms_per_request": side.client_cpu_ms,
        "baseline_client_cpu_ms_per_request": baseline.client_cpu_ms,
        "postgres_cpu_ms_per_request": side.postgres_cpu_ms,
        "baseline_postgres_cpu_ms_per_request": baseline.postgres_cpu_ms,
        "cores": len(os.sched_getaffinity(0)),
        "load_average": round(load, 1),
    }
    if at_target:
        per_ms = TARGET * baseline.rate / 1000  # requests per millisecond at the target

        def cores(ms: float | None) -> float | None:
            return None if ms is None else round(per_ms * ms, 2)

        row["cores_at_target"] = {
            "all": cores(sum_or_none((side.server_cpu_ms, side.client_cpu_ms, side.postgres_cpu_ms))),
            "server": cores(side.server_cpu_ms),
            "postgres": cores(side.postgres_cpu_ms),
        }
    return row


def _row(name: str, value: float, baseline: float, unit: str) -> Row:
    return {
        "name": name,
        "value": round(value, 1),
        "baseline": round(baseline, 1),
        "unit": unit,
        "ratio": round(value / baseline, 3) if baseline else None,
    }


async def run(database_url: str, bootstrap_servers: str) -> list[Row]:
    schema = f"bench_intake_{uuid.uuid4().hex[:8]}"
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    topic, raw_topic = prefix + SUBMISSIONS_TOPIC, prefix + "raw.submissions"
    ensure_topics(
        bootstrap_servers, [TopicSpec(topic, 6), TopicSpec(dlq_of(topic), 1), TopicSpec(raw_topic, 6)]
    )
    pool = await create_pool(database_url, min_size=2, max_size=20)
    try:
        await migrate(pool, schema)
        async with pool.acquire() as conn:
            await conn.execute(
                f"CREATE TABLE {schema}.raw_submissions (id uuid PRIMARY KEY, body jsonb NOT NULL)"
            )
        http, http_offices, http_base, load = await _http(database_url, schema)
        await _produce(bootstrap_servers, topic, KAFKA_MESSAGES)
        await _produce(bootstrap_servers, raw_topic, KAFKA_MESSAGES)
        kafka = await _kafka_intake(pool, schema, bootstrap_servers, topic, idempotent=True)
        kafka_base = await _kafka_raw(pool, schema, bootstrap_servers, raw_topic)
        return [
            {
                **_row("intake_http_submissions", http.rate, http_base.rate, "submissions/s"),
                **_cpu(http, http_base, load),
                "target": f">={TARGET}",
            },
            {
                **_row(
                    f"intake_http_submissions_{len(OFFICES)}_offices",
                    http_offices.rate,
                    http_base.rate,
                    "submissions/s",
                ),
                **_cpu(http_offices, http_base, load, at_target=False),
                "vs_one_office": round(http_offices.rate / http.rate, 3),
                "target": "> one office",
            },
            _row("intake_kafka_submissions", kafka, kafka_base, "submissions/s"),
        ]
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        delete_topics(bootstrap_servers, prefix=prefix, quiet=True)
        await pool.close()


if __name__ == "__main__":  # pragma: no cover
    rows = asyncio.run(run(os.environ["DATABASE_URL"], os.environ["KAFKA_BOOTSTRAP_SERVERS"]))
    json.dump(rows, sys.stdout, indent=2)
