"""Replay benchmark: rebuild intake's status projection (`applications` + `application_history`)
from 1,000,000 stored events into a fresh schema, next to a raw sequential read of the same
events (the same gap-safe pages, decoded, nothing projected) in the same run.

The log is generated in PostgreSQL from contract-valid templates: applications submitted, then
their cases' steps in rounds (assigned, inspection scheduled and completed, decided, two
notification states, a complaint registered and resolved, entitlement started), so an
application's events are spread over the log as in a running system. `QYZMET_BENCH_REPLAY_EVENTS`
makes a quicker run (default 1,000,000). Peak RSS is the process's high-water mark after the
replay (the replay streams: it keeps at most its row cache, two pages, a batch of history and the
ids of the applications whose row it wrote in memory). The replay reads of each event only the
keys its fold reads (services/intake/adapters/status_read.py); the raw read decodes every
payload, as a reader of the store does. Each side's Python CPU seconds and the load average at
the end are recorded beside the rates (the machine is shared: the rates move with others' load,
the CPU seconds much less).

The replay splits as `qyzmet replay` does by default: one process per core (`WORKERS`), each
folding its share of the applications (`shared.replay.partitions`), in pages of 40,000 events;
its Python CPU is theirs and the parent's together, its peak RSS the largest of theirs
(`peak_rss_mb_replay_process`). The raw read it is compared with stays what the issue names: one
sequential reader (pages of 5,000).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import resource
import time
import uuid
from datetime import UTC, date, datetime
from typing import Any

import asyncpg

from bench.rows import ratio_row
from bench.system import peak_rss_mb
from services.intake.bootstrap import migrate
from services.intake.projections import APPLICATIONS
from shared.cli.replay import default_workers
from shared.contracts.application_progress import CaseProgressRecorded, CaseStep, GroundRef
from shared.contracts.applications import ApplicationSubmitted
from shared.db.pool import create_pool
from shared.eventstore import EventStore, GlobalCursor, cursor_of
from shared.replay.engine import replay_from_store
from shared.replay.reading import read_all
from shared.replay.spec import Parallel

EVENTS = int(os.environ.get("QYZMET_BENCH_REPLAY_EVENTS", "1000000"))
WORKERS = default_workers()
"""The replay's processes: as `qyzmet replay` splits it by default."""
PAGE = 5000
CHUNK = 20_000
"""Applications whose steps are interleaved round by round."""
STATEMENT_ROWS = 5_000
"""Rows per generating statement (each its own short transaction: a long one would hold back
every gap-safe reader of the cluster, other benchmarks' and tests' included)."""
AT = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
STEPS: tuple[tuple[CaseStep, str, dict[str, Any]], ...] = (
    ("executor_assigned", "decision.executor_assigned", {"executor": "spec-1"}),
    ("inspection_scheduled", "inspection.scheduled", {"inspection_date": date(2025, 3, 10)}),
    ("inspection_completed", "inspection.completed", {}),
    (
        "decision_made",
        "decision.made",
        {"outcome": "approved", "decided_at": AT, "grounds": (GroundRef(id="g1", text="ground"),)},
    ),
    (
        "notification_state_changed",
        "notification.state_changed",
        {
            "notification_id": "n1",
            "notification_kind": "decision_made",
            "notification_channel": "email",
            "delivery_state": "ON_DELIVERY",
        },
    ),
    (
        "notification_state_changed",
        "notification.state_changed",
        {
            "notification_id": "n1",
            "notification_kind": "decision_made",
            "notification_channel": "email",
            "delivery_state": "DELIVERED",
        },
    ),
    (
        "complaint_registered",
        "complaint.registered",
        {"complaint_id": "c1", "review_due_on": date(2025, 4, 1)},
    ),
    ("complaint_resolved", "complaint.resolved", {"complaint_id": "c1", "complaint_outcome": "rejected"}),
    ("entitlement_started", "decision.entitlement_started", {"effective": date(2025, 3, 4)}),
)
PER_APPLICATION = 1 + len(STEPS)


def _submitted() -> dict[str, Any]:
    documents = [
        {"document_id": d, "name_kk": d, "name_en": d, "form": "original"}
        for d in ("identity_card", "labour_activity_documents", "income_statement")
    ]
    event = ApplicationSubmitted(
        application_id="00000000-0000-0000-0000-000000000000",
        registration_number="karaganda-dept-01-2025-000001",
        service_id="unemployed_registration",
        edition_id="unemployed_registration@2023",
        edition_basis="bench",
        channel="department",
        office_id="karaganda-dept-01",
        region="karaganda",
        received_by="clerk-1",
        received_at=AT,
        due_at=AT,
        idempotency_key="k",
        applicant={"iin": "850412300017", "full_name": "Bench Applicant", "contacts": {"phone": "+7 701"}},
        documents=documents,
    )
    return event.model_dump(mode="json")


def _step(i: int) -> dict[str, Any]:
    step, source, facts = STEPS[i]
    return CaseProgressRecorded(
        application_id="00000000-0000-0000-0000-000000000000", step=step, source_event_id=str(uuid.uuid4()),
        source_event_type=source, occurred_at=AT.replace(hour=10 + i), recorded_by="officer-1", **facts,
    ).model_dump(mode="json")  # fmt: skip


async def _generate(conn: asyncpg.Connection, schema: str, applications: int) -> int:
    """Insert the log in PostgreSQL: per chunk and step, statements of `STATEMENT_ROWS` rows."""
    templates = [("application.submitted", _submitted())] + [
        ("application.case_progress_recorded", _step(i)) for i in range(len(STEPS))
    ]
    for chunk in range(0, applications, CHUNK):
        for version, (event_type, template), start in (
            (v, t, s)
            for v, t in enumerate(templates, start=1)
            for s in range(chunk, min(chunk + CHUNK, applications), STATEMENT_ROWS)
        ):
            end = min(start + STATEMENT_ROWS, chunk + CHUNK, applications)
            await conn.execute(
                f"INSERT INTO {schema}.events (stream_id, version, event_id, event_type, schema_version,"
                " data, metadata, recorded_at)"
                " SELECT 'application-' || a.id, $1, gen_random_uuid(), $2, 1,"
                " jsonb_set($3::text::jsonb, '{application_id}', to_jsonb(a.id)),"
                " jsonb_build_object('actor', 'officer-1', 'correlation_id', a.id), $6"
                " FROM (SELECT md5('bench' || i)::uuid::text AS id"
                " FROM generate_series($4::int, $5::int - 1) i) a",
                version,
                event_type,
                json.dumps(template),
                start,
                end,
                AT,
            )
    total: int = await conn.fetchval(f"SELECT count(*) FROM {schema}.events")
    await conn.execute(f"VACUUM (ANALYZE) {schema}.events")  # at rest, as a log is: not vacuumed
    # by autovacuum while the reads are timed, its gigabyte not written out by the checkpointer then
    with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
        await conn.execute("CHECKPOINT")
    return total


async def _raw_read(pool: asyncpg.Pool, schema: str, expected: int) -> tuple[int, float, float]:
    """Every event in commit order through the gap-safe pages, decoded, nothing else (waiting, as
    the replay does, while a transaction older than the events is still running)."""
    store, cursor, count = EventStore(schema), GlobalCursor(), 0
    started, cpu = time.perf_counter(), time.process_time()
    async with pool.acquire() as conn:

        async def page() -> int:
            nonlocal cursor
            events = await store.read_committed(conn, cursor, PAGE)
            if events:
                cursor = cursor_of(events[-1])
            return len(events)

        count = await read_all(page, expected, lambda _: None)
    return count, count / (time.perf_counter() - started), time.process_time() - cpu


def _children_cpu_s() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


async def run(database_url: str, bootstrap_servers: str) -> list[dict[str, Any]]:
    schema = f"bench_replay_{uuid.uuid4().hex[:8]}"
    target = f"{schema}_r"
    pool = await create_pool(database_url, min_size=1, max_size=4)
    try:
        await migrate(pool, schema)
        async with pool.acquire() as conn:
            stored = await _generate(conn, schema, max(EVENTS // PER_APPLICATION, 1))
        read, read_rate, read_cpu = await _raw_read(pool, schema, stored)
        rss_before = peak_rss_mb()
        spec = dataclasses.replace(APPLICATIONS, schema=lambda: schema)
        cpu, children_cpu = time.process_time(), _children_cpu_s()
        parallel = Parallel(database_url, WORKERS)
        result = await replay_from_store(pool, spec, target, parallel=parallel)
        replay_cpu = time.process_time() - cpu
        replay_children_cpu = _children_cpu_s() - children_cpu
        rate = result.events / result.seconds
        async with pool.acquire() as conn:
            rows = await conn.fetchval(f"SELECT count(*) FROM {target}.applications")
            history = await conn.fetchval(f"SELECT count(*) FROM {target}.application_history")
        assert read == stored == result.events == history, (read, stored, result.events, history)
        return [
            ratio_row(
                "replay_status_projection",
                rate,
                read_rate,
                "events/s",
                0.3,
                events=result.events,
                applications=rows,
                seconds=round(result.seconds, 1),
                absolute_target=100_000,
                meets_absolute_target=rate >= 100_000,
                processes=WORKERS if stored >= parallel.min_events else 1,
                peak_rss_mb=round(peak_rss_mb(), 1),
                peak_rss_mb_before_replay=round(rss_before, 1),
                peak_rss_mb_replay_process=round(peak_rss_mb(resource.RUSAGE_CHILDREN), 1),
                python_cpu_s=round(replay_cpu + replay_children_cpu, 1),
                raw_read_python_cpu_s=round(read_cpu, 1),
                load_average=round(os.getloadavg()[0], 1),
            )
        ]
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            await conn.execute(f"DROP SCHEMA IF EXISTS {target} CASCADE")
        await pool.close()


if __name__ == "__main__":
    import asyncio

    url = os.environ["DATABASE_URL"]
    for row in asyncio.run(run(url, "")):
        print(row)
