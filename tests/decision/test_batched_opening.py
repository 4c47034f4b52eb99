"""New cases of a consumer batch are opened (and automated ones decided) together in a few
statements (issue 14), without losing idempotency or per-case failure handling."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from bench.decision_workers import application
from services.decision.adapters.catalog import DecisionCatalog
from services.decision.bootstrap import consumed_registry
from services.decision.entrypoints.kafka_handlers import consumer_handler
from services.decision.service import DecisionService
from services.decision.settings import DecisionSettings
from shared.contracts.applications import ApplicationSubmitted
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
    assert len(writes) <= 10, writes
    # none per case (at most the event store's own around its batch append)
    assert sum(s.strip().upper().startswith("SAVEPOINT") for s in writes) <= 1
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
