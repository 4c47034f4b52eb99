"""Latency under load: submit -> `DecisionMade` on decisions.v1, open loop, whole system.

`qyzmet run` on this machine; an open-loop generator submits applications for an automated
service (pension savings account information) to the intake API at a fixed arrival rate (the
i-th at t0 + i/rate, whether or not earlier ones were answered), and a consumer of decisions.v1
notes when each application's DecisionMade arrives. Latency is from the scheduled submit time
(so that a slow client counts), timeouts are decisions that did not come within TIMEOUT_S.
During the 50/s run the resident memory of every process is sampled each second.

Each rate's figures also split the latency into its stages (p50/p99 per stage, wall clock): the
submission's commit, intake's relay to applications.v1, the decision worker to `DecisionMade`
stored, the decision relay to decisions.v1, and the bench's own consumer; so a miss names the hop
that made it.

The generator is aiohttp's client: httpx took ten times its CPU per request here (1.85 ms against
0.18 ms, server included), 9 % of a core at 50/s taken from the system it measures.

Targets (issue 14): p99 <= 1 s at 50/s with 0 timeouts; every process under 300 MB, not growing.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.system import RunningSystem, rss_mb, running_system
from services.intake.domain.identity import make_iin
from shared.auth.roles import Role
from shared.messaging import kafka as _waiting_fetches  # noqa: F401  (consumers wait when idle)

Row = dict[str, Any]
RATES = tuple(int(r) for r in os.environ.get("BENCH_LATENCY_RATES", "20,50,100").split(","))
SECONDS = float(os.environ.get("BENCH_LATENCY_SECONDS", "30"))
TIMEOUT_S = float(os.environ.get("BENCH_LATENCY_TIMEOUT_S", "15"))
WARMUP = 20
OFFICE = "karaganda-tson-01"
IIN = make_iin(date(1985, 4, 12), 17)
MADE = b"kz.qyzmet.decision.made.v1"
SUBMITTED = b"kz.qyzmet.application.submitted.v1"
TARGET_P99_MS = 1000.0
RSS_LIMIT_MB = 300.0


def _body() -> dict[str, Any]:
    return {
        "idempotency_key": str(uuid.uuid4()),
        "service_id": "pension_savings_account_info",
        "channel": "tson",
        "office_id": OFFICE,
        "applicant": {"iin": IIN, "full_name": "Bench Applicant"},
        "documents": [{"document_id": "application_form"}, {"document_id": "identity_document"}],
    }


class _Decisions:
    """Arrival time of each application's DecisionMade, from decisions.v1 (and, for the stages,
    when the relays put each application's first record on `topic` and on `also`)."""

    def __init__(self, bootstrap: str, topic: str, also: str | None = None) -> None:
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
        self.topic = topic
        self.also = also
        self.arrived: dict[str, float] = {}
        self.produced: dict[str, float] = {}
        """application id -> wall-clock time its DecisionMade record was produced (record timestamp)."""
        self.submitted_on_topic: dict[str, float] = {}
        """application id -> wall-clock time intake's relay produced its ApplicationSubmitted."""
        self.duplicates = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        await self.consumer.topics()  # the cluster's metadata, this topic's partitions among it
        tps = []
        for topic in (self.topic, self.also):
            if topic is None:
                continue
            partitions = self.consumer.partitions_for_topic(topic) or set()
            if not partitions:
                raise RuntimeError(f"no partitions of {topic}")
            tps += [TopicPartition(topic, p) for p in sorted(partitions)]
        self.consumer.assign(tps)
        await self.consumer.seek_to_end(*tps)
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=500, max_records=1000)
            now = time.perf_counter()
            for records in batches.values():
                for record in records:
                    kind = dict(record.headers).get("ce_type")
                    if kind not in (MADE, SUBMITTED) or record.value is None:
                        continue
                    body = json.loads(record.value)  # binary mode: the value is the event's data
                    application_id = body.get("application_id") or body["data"]["application_id"]
                    if kind == SUBMITTED:
                        self.submitted_on_topic.setdefault(application_id, record.timestamp / 1000)
                    elif application_id in self.arrived:
                        self.duplicates += 1
                    else:
                        self.arrived[application_id] = now
                        self.produced[application_id] = record.timestamp / 1000

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.consumer.stop()


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _sample_rss(system: RunningSystem, samples: dict[str, list[float]], stop: asyncio.Event) -> None:
    while not stop.is_set():
        for name, pid in system.processes().items():
            value = rss_mb(pid)
            if value is not None:
                samples.setdefault(name, []).append(value)
        try:
            await asyncio.wait_for(stop.wait(), 1.0)
        except TimeoutError:
            pass


async def _open_loop(
    client: aiohttp.ClientSession,
    decisions: _Decisions,
    rate: int,
    seconds: float,
    scheduled: dict[str, float] | None = None,
) -> dict[str, Any]:
    """One open-loop run; `scheduled` (application id -> scheduled submit time, perf_counter)
    is filled for the stages."""
    scheduled = {} if scheduled is None else scheduled
    failures = 0
    answers: list[float] = []

    async def submit(at: float) -> None:
        nonlocal failures
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        try:
            async with client.post("/v1/applications", json=_body()) as response:
                status, text = response.status, await response.text()
        except (aiohttp.ClientError, TimeoutError):
            failures += 1
            return
        answers.append(time.perf_counter() - at)
        if status == 201:
            scheduled[json.loads(text)["application_id"]] = at
        else:
            failures += 1
            if failures == 1:
                print(f"submit refused: {status} {text[:300]}", file=sys.stderr)

    start = time.perf_counter() + 0.5
    count = int(rate * seconds)
    await asyncio.gather(*(submit(start + i / rate) for i in range(count)))
    deadline = time.perf_counter() + TIMEOUT_S
    while time.perf_counter() < deadline and any(a not in decisions.arrived for a in scheduled):
        await asyncio.sleep(0.1)
    latencies, timeouts = [], 0
    for application_id, at in scheduled.items():
        arrived = decisions.arrived.get(application_id)
        if arrived is None or arrived - at > TIMEOUT_S:
            timeouts += 1
        else:
            latencies.append((arrived - at) * 1000)
    return {
        "rate": rate,
        "submitted": count,
        "accepted": len(scheduled),
        "failed_submits": failures,
        "timeouts": timeouts,
        "p50_ms": round(_percentile(latencies, 0.50), 1),
        "p95_ms": round(_percentile(latencies, 0.95), 1),
        "p99_ms": round(_percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies, default=float("nan")), 1),
        "submit_p50_ms": round(statistics.median(answers) * 1000, 1) if answers else None,
    }


async def measure(database_url: str, bootstrap: str) -> tuple[list[dict[str, Any]], dict[str, list[float]]]:
    results: list[dict[str, Any]] = []
    rss: dict[str, list[float]] = {}
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)  # unwinds: stops the system
    with (
        tempfile.TemporaryDirectory(prefix="qyzmet-latency-") as tmp,
        running_system(database_url, bootstrap, Path(tmp)) as system,
    ):
        decisions = _Decisions(bootstrap, system.prefix + "decisions.v1", system.prefix + "applications.v1")
        await decisions.start()
        token = system.token(Role.TSON, OFFICE)
        headers = {"Authorization": f"Bearer {token}"}
        try:
            async with aiohttp.ClientSession(
                base_url=system.url("intake"),
                headers=headers,
                connector=aiohttp.TCPConnector(limit=256),
                timeout=aiohttp.ClientTimeout(total=30),
            ) as client:
                await _open_loop(client, decisions, WARMUP, 1.0)  # warm-up: caches, plans
                for rate in RATES:
                    stop = asyncio.Event()
                    sampler = asyncio.create_task(_sample_rss(system, rss, stop)) if rate == 50 else None
                    scheduled: dict[str, float] = {}
                    results.append(await _open_loop(client, decisions, rate, SECONDS, scheduled))
                    results[-1]["duplicates"] = decisions.duplicates
                    results[-1].update(await _stages(system.database_url, decisions, scheduled))
                    print(f"latency at {rate}/s: {results[-1]}", file=sys.stderr, flush=True)
                    stop.set()
                    if sampler is not None:
                        await sampler
        finally:
            await decisions.stop()
    return results, rss


STAGES = (
    ("submit_to_stored", "submitted (scheduled) -> ApplicationSubmitted stored by intake"),
    ("intake_relay", "stored -> on applications.v1"),
    ("decision_worker", "on applications.v1 -> DecisionMade stored"),
    ("decision_relay", "DecisionMade stored -> on decisions.v1"),
    ("bench_consumer", "on decisions.v1 -> read by the bench"),
)


async def _stages(database_url: str, decisions: _Decisions, scheduled: dict[str, float]) -> dict[str, Any]:
    """p50/p99 (ms) of each stage of the decided applications (`STAGES`), from the events' stored
    times (transaction start), the records' timestamps and the bench's arrival times."""
    wall = time.time() - time.perf_counter()  # perf_counter -> wall clock
    ids = [a for a in scheduled if a in decisions.arrived]
    conn = await asyncpg.connect(database_url)
    try:
        stored = dict(
            await conn.fetch(
                "SELECT data->>'application_id', extract(epoch FROM recorded_at)::float8 FROM intake.events"
                " WHERE event_type = 'application.submitted' AND data->>'application_id' = ANY($1::text[])",
                ids,
            )
        )
        decided = dict(
            await conn.fetch(
                "SELECT data->>'application_id', extract(epoch FROM min(recorded_at))::float8"
                " FROM decision.events WHERE event_type = 'decision.made'"
                " AND data->>'application_id' = ANY($1::text[]) GROUP BY 1",
                ids,
            )
        )
    finally:
        await conn.close()
    spans: dict[str, list[float]] = {name: [] for name, _ in STAGES}
    for a in ids:
        times = (
            scheduled[a] + wall,
            stored.get(a),
            decisions.submitted_on_topic.get(a),
            decided.get(a),
            decisions.produced.get(a),
            decisions.arrived[a] + wall,
        )
        for (name, _), start, end in zip(STAGES, times, times[1:], strict=False):
            if start is not None and end is not None:
                spans[name].append((end - start) * 1000)
    return {
        f"stage_{name}_ms": {"p50": round(_percentile(v, 0.5), 1), "p99": round(_percentile(v, 0.99), 1)}
        for name, v in spans.items()
    }


def _rss_rows(samples: dict[str, list[float]]) -> list[Row]:
    rows = []
    for name, values in sorted(samples.items()):
        third = max(1, len(values) // 3)
        growth = statistics.mean(values[-third:]) - statistics.mean(values[:third])
        rows.append(
            {
                "name": f"rss_50_per_s_{name}",
                "value": round(max(values), 1),
                "unit": "MB (max)",
                "growth_mb": round(growth, 1),
                "target": f"<{RSS_LIMIT_MB:.0f}",
                "ok": max(values) < RSS_LIMIT_MB,
            }
        )
    return rows


async def run(database_url: str, bootstrap_servers: str) -> list[Row]:
    results, rss = await measure(database_url, bootstrap_servers)
    rows: list[Row] = []
    for result in results:
        rows.append(
            {
                "name": f"latency_submit_to_decision_{result['rate']}_per_s_p99",
                "value": result["p99_ms"],
                "unit": "ms",
                "target": f"<={TARGET_P99_MS:.0f}" if result["rate"] == 50 else None,
                **result,
            }
        )
    return rows + _rss_rows(rss)


if __name__ == "__main__":
    rows = asyncio.run(run(os.environ["DATABASE_URL"], os.environ["KAFKA_BOOTSTRAP_SERVERS"]))
    json.dump(rows, sys.stdout, indent=2)
