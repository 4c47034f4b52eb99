"""Quality report benchmark: `build_report` over a generated log of the intake, decision and
complaints stores, next to a raw sequential read of the same events (every column, decoded, in log
order, in one read-only snapshot, nothing computed) in the same run.

Per application: `ApplicationSubmitted` and `DecisionMade` (every 20th late); every 10th
applicant refused at intake first; every 10th application complained about (registered and
resolved, every 3rd upheld). The known figures are checked (95 % on time, 90 % first time right).
`QYZMET_BENCH_QUALITY_APPLICATIONS` sets the size (default 100,000, about 240,000 events). Peak
RSS is the process's high-water mark before and after the report (the report streams).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from bench.system import peak_rss_mb
from services.complaints.bootstrap import MIGRATIONS as COMPLAINTS_MIGRATIONS
from services.decision.bootstrap import MIGRATIONS as DECISION_MIGRATIONS
from services.intake.bootstrap import MIGRATIONS as INTAKE_MIGRATIONS
from shared.catalog.loader import load_catalog
from shared.contracts.applications import (
    Applicant,
    ApplicationRejectedAtIntake,
    ApplicationSubmitted,
    IntakeProblem,
)
from shared.contracts.complaints import Complainant, ComplaintRegistered, ComplaintResolved
from shared.contracts.decisions import DecisionMade, EligibilityInputs, Evaluation
from shared.db.pool import create_pool
from shared.eventstore import apply_migrations
from shared.quality.build import ReportRequest, build_report
from shared.quality.pg_reader import EventSchemas

APPLICATIONS = int(os.environ.get("QYZMET_BENCH_QUALITY_APPLICATIONS", "100000"))
PAGE = 5000
COLUMNS = "e.position, e.txid, e.stream_id, e.version, e.event_id, e.event_type, e.schema_version, e.data,"
COLUMNS += " e.metadata"
AT = datetime(2009, 3, 2, 6, 0, tzinfo=UTC)
SERVICE, EDITION, OFFICE, REGION = (
    "targeted_social_assistance",
    "krg_2008_standard",
    "karaganda-dept-01",
    "karaganda",
)
ZERO = "00000000-0000-0000-0000-000000000000"


def _templates() -> dict[str, dict[str, Any]]:
    applicant = Applicant(iin="000000000000", full_name="Bench Applicant")
    inputs = EligibilityInputs(application_date=date(2009, 3, 2), region=REGION, channel="department")
    return {
        "application.submitted": ApplicationSubmitted(
            application_id=ZERO, registration_number="r", service_id=SERVICE, edition_id=EDITION,
            edition_basis="bench", channel="department", office_id=OFFICE, region=REGION, received_by="clerk",
            received_at=AT, due_at=AT + timedelta(days=5), applicant=applicant, documents=[],
            idempotency_key="k",
        ).model_dump(mode="json"),
        "application.rejected_at_intake": ApplicationRejectedAtIntake(
            application_id=ZERO, service_id=SERVICE, channel="department", office_id=OFFICE, region=REGION,
            received_by="clerk", rejected_at=AT - timedelta(hours=1), applicant_iin="000000000000",
            problems=[IntakeProblem(code="missing_document", field="documents", message="missing")],
            idempotency_key="k",
        ).model_dump(mode="json"),
        "decision.made": DecisionMade(
            application_id=ZERO, service_id=SERVICE, edition_id=EDITION, office_id=OFFICE, region=REGION,
            channel="department", outcome="approved", result_id=None, automated=False, drafted_by="s",
            signed_by="h", decided_at=AT + timedelta(days=4), due_at=AT + timedelta(days=5), on_time=True,
            evaluation=Evaluation(service_id=SERVICE, edition_id=EDITION, rule_ids=(), computable=False,
                                  inputs=inputs, outcome=None),
        ).model_dump(mode="json"),
        "complaint.registered": ComplaintRegistered(
            complaint_id=ZERO, registration_number="c", subject="decision", application_id=ZERO,
            service_id=SERVICE, office_id=OFFICE, region=REGION, channel="in_person", registered_by="clerk",
            registered_at=AT + timedelta(days=6), reviewing_body="oblast_department", reviewing_office=OFFICE,
            review_due_on=date(2009, 3, 25), review_term_basis="bench",
            complainant=Complainant(full_name="B"), idempotency_key="k",
        ).model_dump(mode="json"),
        "complaint.resolved": ComplaintResolved(
            complaint_id=ZERO, application_id=ZERO, subject="decision", service_id=SERVICE, office_id=OFFICE,
            reviewing_office=OFFICE, outcome="rejected", reasoning="r", reviewed_by="r",
            resolved_at=AT + timedelta(days=10), on_time=True, reopen_case=False,
        ).model_dump(mode="json"),
    }  # fmt: skip


_IDS = (
    "SELECT i, md5('quality' || i)::uuid::text AS id, lpad(i::text, 12, '0') AS iin"
    " FROM generate_series(0, $4::int - 1) i"
)
FIRST = ("application.rejected_at_intake", "application.submitted", "complaint.registered")
"""Event types that open their stream (version 1); the others follow (version 2)."""


async def _insert(
    conn: asyncpg.Connection, table: str, stream: str, kind: str, data: str, where: str, n: int
) -> None:
    await conn.execute(
        f"INSERT INTO {table} (stream_id, version, event_id, event_type, schema_version, data, metadata)"
        f" SELECT {stream}, $1, gen_random_uuid(), $2, 1, {data}, '{{}}'::jsonb"
        f" FROM ({_IDS}) a WHERE {where}",
        1 if kind in FIRST else 2,
        kind, json.dumps(_templates()[kind]), n,
    )  # fmt: skip


async def _generate(conn: asyncpg.Connection, schemas: EventSchemas, n: int) -> int:
    intake, decision = f"{schemas.intake}.events", f"{schemas.decision}.events"
    complaints = f"{schemas.complaints}.events"
    app = "jsonb_set($3::text::jsonb, '{application_id}', to_jsonb(a.id))"
    await _insert(
        conn,
        intake,
        "'refused-' || a.id",
        "application.rejected_at_intake",
        f"jsonb_set({app}, '{{applicant_iin}}', to_jsonb(a.iin))",
        "a.i % 10 = 0",
        n,
    )
    await _insert(
        conn,
        intake,
        "'application-' || a.id",
        "application.submitted",
        f"jsonb_set({app}, '{{applicant,iin}}', to_jsonb(a.iin))",
        "true",
        n,
    )
    late = "to_jsonb(($5::timestamptz + interval '6 days')::text)"
    await conn.execute(
        f"INSERT INTO {decision} (stream_id, version, event_id, event_type, schema_version, data, metadata)"
        " SELECT 'case-' || a.id, $1, gen_random_uuid(), $2, 1,"
        f" CASE WHEN a.i % 20 = 0 THEN jsonb_set({app}, '{{decided_at}}', {late}) ELSE {app} END,"
        " '{}'::jsonb"
        f" FROM ({_IDS}) a",
        1, "decision.made", json.dumps(_templates()["decision.made"]), n, AT,
    )  # fmt: skip
    complaint = (
        "jsonb_set(jsonb_set($3::text::jsonb, '{complaint_id}', to_jsonb(a.id)),"
        " '{application_id}', to_jsonb(a.id))"
    )
    await _insert(
        conn, complaints, "'complaint-' || a.id", "complaint.registered", complaint, "a.i % 10 = 1", n
    )
    outcome = "'\"upheld\"'"
    upheld = (
        f"CASE WHEN a.i % 30 = 1 THEN jsonb_set({complaint}, '{{outcome}}', {outcome}) ELSE {complaint} END"
    )
    await _insert(conn, complaints, "'complaint-' || a.id", "complaint.resolved", upheld, "a.i % 10 = 1", n)
    total = 0
    for table in (intake, decision, complaints):
        await conn.execute(f"ANALYZE {table}")
        total += await conn.fetchval(f"SELECT count(*) FROM {table}")
    return total


async def _raw_read(pool: asyncpg.Pool, schemas: EventSchemas) -> tuple[int, float]:
    """Every event of the three stores in log order, decoded, in one read-only snapshot as the
    report reads (not the gap-safe pages: another session's long transaction would hide events)."""
    count, started = 0, time.perf_counter()
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        for schema in (schemas.intake, schemas.decision, schemas.complaints):
            sql = f"SELECT {COLUMNS} FROM {schema}.events e ORDER BY e.txid, e.position"
            async for _row in conn.cursor(sql, prefetch=PAGE):
                count += 1
    return count, count / (time.perf_counter() - started)


async def run(database_url: str, bootstrap_servers: str) -> list[dict[str, Any]]:
    tag = uuid.uuid4().hex[:8]
    schemas = EventSchemas(f"bench_qi_{tag}", f"bench_qd_{tag}", f"bench_qc_{tag}")
    pool = await create_pool(database_url, min_size=1, max_size=4)
    catalog = load_catalog()
    try:
        async with pool.acquire() as conn:
            await apply_migrations(conn, schemas.intake, *INTAKE_MIGRATIONS)
            await apply_migrations(conn, schemas.decision, *DECISION_MIGRATIONS)
            await apply_migrations(conn, schemas.complaints, *COMPLAINTS_MIGRATIONS)
            stored = await _generate(conn, schemas, APPLICATIONS)
        read, read_rate = await _raw_read(pool, schemas)
        rss_before = peak_rss_mb()
        request = ReportRequest(
            date(2009, 3, 1), date(2009, 3, 31), schemas=schemas, catalog_schema=f"none_{tag}"
        )
        started = time.perf_counter()
        async with pool.acquire() as conn:
            report = await build_report(conn, catalog, request)
        seconds = time.perf_counter() - started
        figures = {r.indicator_id: (r.numerator, r.denominator) for r in report.rows}
        assert read == stored, (read, stored)
        assert figures["on_time"] == (APPLICATIONS - (APPLICATIONS + 19) // 20, APPLICATIONS), figures
        assert figures["first_time_right"] == (APPLICATIONS - (APPLICATIONS + 9) // 10, APPLICATIONS), figures
        rate = stored / seconds
        ratio = rate / read_rate if read_rate else 0.0
        return [
            {
                "name": "quality_report", "value": round(rate, 1), "baseline": round(read_rate, 1),
                "unit": "events/s", "ratio": round(ratio, 3), "target_ratio": None, "meets_target": None,
                "events": stored, "seconds": round(seconds, 2),
                "peak_rss_mb": round(peak_rss_mb(), 1), "peak_rss_mb_before_report": round(rss_before, 1),
            }
        ]  # fmt: skip
    finally:
        async with pool.acquire() as conn:
            for schema in (schemas.intake, schemas.decision, schemas.complaints):
                await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await pool.close()


if __name__ == "__main__":
    import asyncio

    for row in asyncio.run(run(os.environ["DATABASE_URL"], "")):
        print(row)
