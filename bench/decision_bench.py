"""Decision benchmark: automated decisions per second through the real pipeline
(applications.v1 -> consumer with inbox -> case stream + timers + projection -> relay ->
decisions.v1), next to a raw aiokafka consume-and-insert of the same events in the same run.

The figure against the target is the issue's measure, Kafka in -> `DecisionMade` stored (the
raw side, too, ends when its rows are stored): the clock stops when the store holds every
decision (looked at every 5 ms on a connection of its own, by key: see `_all_stored`). The
relay runs in the worker's process all along, so its CPU is in the figure; the time until the
relay had every decision acknowledged by the broker (its checkpoint past the last event) is
reported beside it (`value_published`, `ratio_published`). decisions.v1 is read only after the
window (every decision must be there): a consumer in the window would run in the worker's
process and take its CPU (it took 4-8 % of the process).

Each side's clock starts once its consumer may fetch: the raw consumer's after `start()` (it
needs no group), the worker's once its consumer group gave it the partitions (joining the group
is the broker's start-up, ~0.3 s here, once per worker's life, not per decision). The figure
with the worker's whole start (group join included) is reported beside it (`value_with_start`).
Figures are medians of `ROUNDS` rounds on fresh topics, alternating which side goes first."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer

from bench.decision_workers import produce_placed
from bench.system import CpuReading, sum_or_none
from services.decision.adapters.catalog import DecisionCatalog
from services.decision.bootstrap import (
    APPLICATIONS_TOPIC,
    DECISIONS_TOPIC,
    INSPECTIONS_TOPIC,
    MIGRATIONS,
    run_worker,
)
from services.decision.service import DecisionService
from services.decision.settings import DecisionSettings
from shared.db.pool import create_pool
from shared.eventstore import apply_migrations
from shared.messaging.kafka import make_producer
from shared.messaging.topics import TopicSpec, delete_topics, dlq_of, ensure_topics

Row = dict[str, Any]
Cpu = dict[str, float | None]
"""CPU milliseconds per decision (or raw record): `process` (this one), and `cpu_by_program`'s."""
EVENTS = 6000
"""Applications per round: the raw side takes a few tenths of a second (at 1,500 it took under
0.1 s, and one round's ratio moved 2x from run to run), the worker several seconds."""
PARTITIONS = 6
ROUNDS = 3
"""Medians of three side-by-side rounds, alternating which side goes first: one round's raw side
lasts under 0.1 s, and its rate alone moved the ratio by 2x from run to run."""


TARGET = 0.15
"""Issue 14's target: automated decisions at this share of the raw side's rate."""

LOOK_S = 0.005
"""How often the bench looks at the store, and then at the relay's checkpoint."""


@dataclass(frozen=True)
class _Stored:
    at: float
    """perf_counter when the store held every decision."""
    cpu: CpuReading
    """Then (this process runs the worker, its relay and this watcher)."""


async def _all_stored(database_url: str, schema: str, lasts: list[str]) -> _Stored:
    """When the store holds all EVENTS decisions, and the CPU spent until then. A partition's
    records are decided in their order, so it looks (on a connection of its own, not the
    worker's pool) only at the case of each partition's last application: a probe of `streams`
    by key, not a count of the events; then it counts them once to be sure."""
    conn = await asyncpg.connect(database_url)
    try:
        streams = [f"case-{aid}" for aid in lasts]
        while True:
            decided: int = await conn.fetchval(
                f"SELECT count(*) FROM {schema}.streams WHERE stream_id = ANY($1::text[]) AND version >= 2",
                streams,
            )
            if decided == len(streams):
                at = time.perf_counter()
                stored: int = await conn.fetchval(
                    f"SELECT count(*) FROM {schema}.events WHERE event_type = 'decision.made'"
                )
                if stored >= EVENTS:
                    return _Stored(at, CpuReading.now())
            await asyncio.sleep(LOOK_S)
    finally:
        await conn.close()


async def _all_published(database_url: str, schema: str, stored: asyncio.Future[_Stored]) -> float:
    """When the relay's checkpoint passed the last event, once all decisions are `stored` (the
    relay moves it when the broker acknowledged what it sent)."""
    await asyncio.shield(stored)
    conn = await asyncpg.connect(database_url)
    try:
        while not await conn.fetchval(
            f"SELECT EXISTS (SELECT FROM {schema}.relay_checkpoints c, (SELECT txid, position"
            f" FROM {schema}.events ORDER BY txid DESC, position DESC LIMIT 1) AS e"
            " WHERE (c.txid, c.position) >= (e.txid, e.position))"
        ):
            await asyncio.sleep(LOOK_S)
        return time.perf_counter()
    finally:
        await conn.close()


async def _decisions_on_topic(bootstrap: str, topic: str) -> int:
    """The distinct DecisionMade on `topic`, read once the window closed (a consumer in the
    window would take the worker's CPU: this process runs it)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    made: set[bytes] = set()
    deadline = time.perf_counter() + 60
    try:
        while len(made) < EVENTS and time.perf_counter() < deadline:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    headers = dict(record.headers)
                    if headers.get("ce_type") == b"kz.qyzmet.decision.made.v1":
                        made.add(headers["ce_id"])
    finally:
        await consumer.stop()
    return len(made)


async def _pipeline(
    pool: asyncpg.Pool, database_url: str, schema: str, bootstrap: str, prefix: str, lasts: list[str]
) -> tuple[float, float, float, Cpu]:
    """Decisions a second from the worker's partition assignment until all were stored, until
    all were published on decisions.v1, and from the worker's start until all were published;
    the CPU per decision until all were stored."""
    service = DecisionService(pool, schema, DecisionCatalog.load(), DecisionSettings())
    producer = make_producer(bootstrap)
    await producer.start()
    stop = asyncio.Event()
    assigned = asyncio.Event()
    launched = time.perf_counter()
    worker = asyncio.create_task(
        run_worker(
            service,
            producer,
            bootstrap,
            stop,
            prefix=prefix,
            instance_id=prefix + "bench",
            scheduler=False,
            assigned=assigned,
        )
    )
    stored = asyncio.create_task(_all_stored(database_url, schema, lasts))
    published = asyncio.create_task(_all_published(database_url, schema, stored))
    try:
        await asyncio.wait_for(assigned.wait(), 60)
        before = CpuReading.now()
        started = time.perf_counter()
        done, published_at = await asyncio.wait_for(asyncio.gather(stored, published), 120)
    finally:
        stored.cancel()
        published.cancel()
        stop.set()
        await worker
        await producer.stop()
    made = await _decisions_on_topic(bootstrap, prefix + DECISIONS_TOPIC)
    if made != EVENTS:
        raise RuntimeError(f"{made} of {EVENTS} decisions reached {prefix + DECISIONS_TOPIC}")
    cpu = before.per_unit_until(done.cpu, EVENTS)
    return (
        EVENTS / (done.at - started),
        EVENTS / (published_at - started),
        EVENTS / (published_at - launched),
        cpu,
    )


async def _raw(pool: asyncpg.Pool, schema: str, bootstrap: str, topic: str) -> tuple[float, Cpu]:
    async with pool.acquire() as conn:
        await conn.execute(
            f"CREATE TABLE {schema}.raw_applications (event_id text PRIMARY KEY, body jsonb NOT NULL)"
        )
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    inserted = 0
    before = CpuReading.now()
    started = time.perf_counter()
    try:
        while inserted < EVENTS and time.perf_counter() - started < 120:
            batches = await consumer.getmany(timeout_ms=200, max_records=500)
            rows = [
                (dict(r.headers)["ce_id"].decode(), r.value.decode())
                for records in batches.values()
                for r in records
                if r.value is not None
            ]
            if not rows:
                continue
            async with pool.acquire() as conn:
                await conn.execute(
                    f"INSERT INTO {schema}.raw_applications (event_id, body)"
                    " SELECT * FROM unnest($1::text[], $2::text[]::jsonb[]) ON CONFLICT DO NOTHING",
                    [r[0] for r in rows],
                    [r[1] for r in rows],
                )
            inserted += len(rows)
        rate = inserted / (time.perf_counter() - started)
        return rate, before.per_unit_until(CpuReading.now(), inserted)
    finally:
        await consumer.stop()


@dataclass(frozen=True)
class _Round:
    raw: float
    pipeline: float
    """To stored."""
    published: float
    with_start: float
    """To published, with the worker's start."""
    raw_cpu: Cpu
    pipeline_cpu: Cpu


async def _round(pool: asyncpg.Pool, database_url: str, bootstrap_servers: str, raw_first: bool) -> _Round:
    """One side by side on fresh topics and a fresh schema."""
    schema = f"bench_decision_{uuid.uuid4().hex[:8]}"
    prefix = f"benchd{uuid.uuid4().hex[:6]}."
    topics = [prefix + t for t in (APPLICATIONS_TOPIC, INSPECTIONS_TOPIC, DECISIONS_TOPIC)]
    ensure_topics(
        bootstrap_servers,
        [TopicSpec(t, PARTITIONS) for t in topics] + [TopicSpec(dlq_of(t), 1) for t in topics],
    )
    try:
        async with pool.acquire() as conn:
            await apply_migrations(conn, schema, *MIGRATIONS)
        placed = await produce_placed(bootstrap_servers, topics[0], EVENTS)
        lasts = list({partition: aid for aid, partition in placed}.values())  # each partition's last
        raw = await _raw(pool, schema, bootstrap_servers, topics[0]) if raw_first else None
        pipeline, published, with_start, cpu = await _pipeline(
            pool, database_url, schema, bootstrap_servers, prefix, lasts
        )
        if raw is None:
            raw = await _raw(pool, schema, bootstrap_servers, topics[0])
        return _Round(raw[0], pipeline, published, with_start, raw[1], cpu)
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        delete_topics(bootstrap_servers, prefix=prefix, quiet=True)


def _medians(figures: list[Cpu]) -> Cpu:
    """Each figure's median over the rounds (None if a round could not tell it)."""
    return {
        name: None
        if any(f[name] is None for f in figures)
        else statistics.median(f[name] or 0.0 for f in figures)
        for name in figures[0]
    }


async def run(database_url: str, bootstrap_servers: str) -> list[Row]:
    pool = await create_pool(database_url, min_size=2, max_size=8)
    try:
        rounds = [
            await _round(pool, database_url, bootstrap_servers, raw_first=i % 2 == 0) for i in range(ROUNDS)
        ]
    finally:
        await pool.close()
    raw = statistics.median(r.raw for r in rounds)
    pipeline = statistics.median(r.pipeline for r in rounds)
    published = statistics.median(r.published for r in rounds)
    with_start = statistics.median(r.with_start for r in rounds)
    pipeline_cpu = _medians([r.pipeline_cpu for r in rounds])
    raw_cpu = _medians([r.raw_cpu for r in rounds])
    process_ms = pipeline_cpu["process"] or 0.0
    all_ms = sum_or_none(pipeline_cpu.values())
    return [
        {
            "name": "decision_automated_decisions",
            "value": round(pipeline, 1),
            "baseline": round(raw, 1),
            "unit": "decisions/s",
            # the median of the rounds' ratios (each round's two sides ran one after the other)
            "ratio": round(statistics.median(r.pipeline / r.raw if r.raw else 0.0 for r in rounds), 3),
            "baseline_name": "raw aiokafka consume + batched insert of the same events",
            "events": EVENTS,
            "target": f">={TARGET}",
            "value_published": round(published, 1),
            "ratio_published": round(
                statistics.median(r.published / r.raw if r.raw else 0.0 for r in rounds), 3
            ),
            "value_with_start": round(with_start, 1),
            "ratio_with_start": round(
                statistics.median(r.with_start / r.raw if r.raw else 0.0 for r in rounds), 3
            ),
            # CPU milliseconds per decision (per record on the raw side) until stored: this process
            # (the worker and its relay; the raw consumer), PostgreSQL, the broker
            "cpu_ms_per_decision": pipeline_cpu,
            "baseline_cpu_ms_per_record": raw_cpu,
            # how busy the one worker process was (share of a core), and the cores the pipeline
            # would take at the target's rate at this CPU per decision (one process can use one)
            "worker_process_core_share": round(pipeline * process_ms / 1000, 3),
            "cores_at_target": {
                "process": round(TARGET * raw * process_ms / 1000, 2),
                "all": None if all_ms is None else round(TARGET * raw * all_ms / 1000, 2),
            },
            "rounds": [
                {"raw": round(r.raw, 1), "pipeline": round(r.pipeline, 1), "published": round(r.published, 1)}
                for r in rounds
            ],
        }
    ]


if __name__ == "__main__":
    import sys
    from pathlib import Path
    from tempfile import TemporaryDirectory

    from shared.infra import postgres_url_from_env_or_start, start_kafka

    with TemporaryDirectory(prefix="qyzmet-decision-bench-") as tmp:
        postgres = postgres_url_from_env_or_start(Path(tmp) / "pg")
        kafka = start_kafka(Path(tmp) / "kafka")
        try:
            print(asyncio.run(run(postgres.url, kafka.bootstrap_servers)), file=sys.stdout)
        finally:
            kafka.stop()
            postgres.stop()
