"""New cases of a consumer batch are opened (and automated ones decided) together in a few
statements (issue 14), without losing idempotency or per-case failure handling."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import structlog.testing

from bench.decision_workers import application
from services.decision.adapters.catalog import DecisionCatalog
from services.decision.bootstrap import consumed_registry
from services.decision.entrypoints.kafka_handlers import consumer_handler
from services.decision.service import DecisionService
from services.decision.settings import DecisionSettings
from shared.contracts.applications import ApplicationSubmitted
from shared.contracts.decisions import CaseOpened, DecisionMade
from shared.db.pool import create_pool
from shared.messaging.consumer import EventConsumer, Outcome
from shared.messaging.envelope import Envelope
from shared.messaging.raw import RawRecord
from shared.runtime.database import with_login
from tests.roles import login_for

CASES = 40


class _DeadLetters:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_and_wait(self, topic: str, **kwargs: Any) -> None:
        self.sent.append({"topic": topic, **kwargs})


def _record(event: ApplicationSubmitted, offset: int) -> RawRecord:
    envelope = Envelope(
        id=str(uuid.uuid4()),
        source="/test/intake",
        type=event.ce_type(),
        data=event.model_dump(mode="json"),
        subject=event.application_id,
    )
    return RawRecord(
        "applications.v1", 0, offset, event.application_id.encode(), envelope.body(), envelope.to_headers()
    )


@pytest.fixture
async def logged(database_url: str) -> AsyncIterator[tuple[asyncpg.Pool, list[str]]]:
    statements: list[str] = []
    pool = await create_pool(with_login(database_url, login_for("decision")), min_size=1, max_size=1)
    async with pool.acquire() as conn:
        conn.add_query_logger(lambda record: statements.append(record.query))
    yield pool, statements
    await pool.close()


def _consumer(service: DecisionService, producer: _DeadLetters) -> EventConsumer:
    return EventConsumer(
        "decision-applications",
        service.pool,
        service.schema,
        consumed_registry(),
        consumer_handler(service, service.settings.source),
        producer,  # type: ignore[arg-type]
        batch=service.open_cases,
    )


async def _made(pool: asyncpg.Pool, schema: str) -> dict[str, int]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT data->>'application_id' AS aid, count(*) AS n FROM {schema}.events"
            " WHERE event_type = 'decision.made' GROUP BY 1"
        )
    return {row["aid"]: row["n"] for row in rows}


async def test_a_batch_of_new_cases_is_decided_in_a_few_statements_once(
    logged: tuple[asyncpg.Pool, list[str]], decision_schema: str
) -> None:
    pool, statements = logged
    service = DecisionService(pool, decision_schema, DecisionCatalog.load(), DecisionSettings())
    consumer = _consumer(service, _DeadLetters())
    await consumer.process_batch([_record(application(0), 0), _record(application(1), 1)])  # warm-up
    events = [application(i) for i in range(CASES)]
    records = [_record(e, i) for i, e in enumerate(events)]
    statements.clear()
    assert await consumer.process_batch(records) == [Outcome.HANDLED] * CASES
    writes = [s for s in statements if not s.lstrip().upper().startswith(("SELECT PG_ADVISORY_UNLOCK_ALL",))]
    print(f"{len(writes)} statements for {CASES} cases:", *(s[:90] for s in writes), sep="\n  ")
    # BEGIN, the streams' heads, the inbox, the append answering the heads, the cases rows, COMMIT
    assert len(writes) <= 6, writes
    assert not any(s.strip().upper().startswith("SAVEPOINT") for s in writes)
    made = await _made(pool, decision_schema)
    assert {e.application_id for e in events} <= set(made) and set(made.values()) == {1}
    # The same records again (a redelivery): all duplicates, nothing decided twice.
    assert await consumer.process_batch(records) == [Outcome.DUPLICATE] * CASES
    assert set((await _made(pool, decision_schema)).values()) == {1}


async def test_a_case_that_cannot_be_planned_does_not_poison_the_batch(
    pool: asyncpg.Pool, decision_schema: str
) -> None:
    service = DecisionService(pool, decision_schema, DecisionCatalog.load(), DecisionSettings())
    dead = _DeadLetters()
    consumer = _consumer(service, dead)
    good = [application(i) for i in range(5)]
    bad = application(99).model_copy(update={"edition_id": "no_such_edition"})
    records = [_record(e, i) for i, e in enumerate([*good[:2], bad, *good[2:]])]
    outcomes = await consumer.process_batch(records)
    assert outcomes == [Outcome.HANDLED] * 2 + [Outcome.DEAD_LETTERED] + [Outcome.HANDLED] * 3
    assert len(dead.sent) == 1 and dead.sent[0]["topic"] == "applications.v1.dlq"
    made = await _made(pool, decision_schema)
    assert set(made) >= {e.application_id for e in good} and bad.application_id not in made


async def test_a_case_already_open_is_left_to_the_single_record_path(
    pool: asyncpg.Pool, decision_schema: str
) -> None:
    service = DecisionService(pool, decision_schema, DecisionCatalog.load(), DecisionSettings())
    consumer = _consumer(service, _DeadLetters())
    first = application(0)
    assert await consumer.process(_record(first, 0)) is Outcome.HANDLED
    # The same submission under another message id (a re-publication): no second case, no second decision.
    again = [_record(first, 1), _record(application(1), 2)]
    assert await consumer.process_batch(again) == [Outcome.HANDLED, Outcome.HANDLED]
    made = await _made(pool, decision_schema)
    assert made[first.application_id] == 1


@pytest.mark.parametrize("write_fails", [False, True], ids=["batch-commits", "batch-write-fails"])
async def test_a_duplicate_and_a_failing_case_in_a_batch_leave_every_case_whole_and_once(
    pool: asyncpg.Pool, decision_schema: str, monkeypatch: pytest.MonkeyPatch, write_fails: bool
) -> None:
    """A redelivered record, a case that cannot be planned and, once, a write that fails after the
    batch's append: whatever happens, each case has all its effects (events, `cases` row, inbox
    row) exactly once or none at all."""
    service = DecisionService(pool, decision_schema, DecisionCatalog.load(), DecisionSettings())
    dead = _DeadLetters()
    consumer = _consumer(service, dead)
    seen = application(0)
    seen_record = _record(seen, 0)
    assert await consumer.process(seen_record) is Outcome.HANDLED
    fresh = [application(i) for i in range(1, 4)]
    bad = application(9).model_copy(update={"edition_id": "no_such_edition"})
    records = [_record(fresh[0], 1), seen_record, _record(bad, 2), _record(fresh[1], 3), _record(fresh[2], 4)]
    if write_fails:
        upsert_many = service.open_cases.projection.upsert_many
        calls = 0

        async def fail_first(conn: asyncpg.Connection, states: Any) -> None:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise RuntimeError("the batch's write fails after its append")
            await upsert_many(conn, states)

        monkeypatch.setattr(service.open_cases.projection, "upsert_many", fail_first)
    outcomes = await consumer.process_batch(records)
    handled = Outcome.HANDLED
    assert outcomes == [handled, Outcome.DUPLICATE, Outcome.DEAD_LETTERED, handled, handled]
    assert len(dead.sent) == 1
    async with pool.acquire() as conn:
        events = await conn.fetch(
            f"SELECT stream_id, version, event_type FROM {decision_schema}.events ORDER BY stream_id, version"
        )
        cases = await conn.fetch(f"SELECT application_id, version FROM {decision_schema}.cases")
        inbox = await conn.fetchval(f"SELECT count(*) FROM {decision_schema}.inbox")
    by_stream: dict[str, list[tuple[int, str]]] = {}
    for row in events:
        by_stream.setdefault(row["stream_id"], []).append((row["version"], row["event_type"]))
    whole = [(1, CaseOpened.event_name), (2, DecisionMade.event_name)]
    assert by_stream == {f"case-{a.application_id}": whole for a in [seen, *fresh]}
    assert {r["application_id"]: r["version"] for r in cases} == {a.application_id: 2 for a in [seen, *fresh]}
    assert inbox == 4  # the four handled records, each once; nothing of the dead-lettered one


async def test_a_committed_batch_logs_one_line_naming_its_conversations(
    logged: tuple[asyncpg.Pool, list[str]], decision_schema: str
) -> None:
    pool, _ = logged
    service = DecisionService(pool, decision_schema, DecisionCatalog.load(), DecisionSettings())
    events = [application(i) for i in range(3)]
    records = [_record(e, i) for i, e in enumerate(events)]
    with structlog.testing.capture_logs() as logs:
        assert await _consumer(service, _DeadLetters()).process_batch(records) == [Outcome.HANDLED] * 3
    opened = [line for line in logs if line["event"] == "cases opened"]
    assert len(opened) == 1 and opened[0]["count"] == 3
    ids = {e.application_id for e in events}  # no correlation id was given: the application's
    assert set(opened[0]["correlation_ids"]) == ids
    assert not any(e.applicant.iin in repr(logs) for e in events)
