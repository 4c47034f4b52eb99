"""Every log line of a request carries its correlation id (the caller's `X-Correlation-Id`, else a
new one, answered in the same header), and every line a consumer's handler writes carries the
event's correlation id and event id — with no personal data."""

from __future__ import annotations

import json
import uuid

import asyncpg
import httpx
import pytest
import structlog
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from shared.contracts.event import DomainEvent
from shared.contracts.registry import EventRegistry
from shared.http.app import create_app
from shared.infra import KafkaHandle
from shared.logging import configure_logging
from shared.messaging.consumer import EventConsumer, Outcome
from shared.messaging.envelope import Envelope
from shared.messaging.kafka import make_producer
from shared.messaging.raw import RawRecord

log = structlog.get_logger("test")


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    out = capsys.readouterr().err.strip().splitlines()
    return [json.loads(line) for line in out if line.startswith("{")]


async def test_request_lines_carry_the_correlation_id_and_the_answer_names_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO")

    async def healthy() -> bool:
        return True

    app: FastAPI = create_app("correlation-test", metrics=CollectorRegistry(), health=healthy)

    @app.get("/v1/ping")
    async def ping() -> dict[str, str]:
        log.info("pinged", iin="900101300123")
        return {"ok": "yes"}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        given = await client.get("/v1/ping", headers={"X-Correlation-Id": "office-system-42"})
        fresh = await client.get("/v1/ping")
    assert given.headers["x-correlation-id"] == "office-system-42"
    new = fresh.headers["x-correlation-id"]
    assert uuid.UUID(new)
    pinged = [line for line in _lines(capsys) if line["event"] == "pinged"]
    assert [line["correlation_id"] for line in pinged] == ["office-system-42", new]
    assert all(line["iin"] == "[redacted]" for line in pinged)


class Noted(DomainEvent):
    event_name = "test.noted"
    event_version = 1
    n: int


async def test_handler_lines_carry_the_events_correlation_and_id(
    pool: asyncpg.Pool, schema: str, broker: KafkaHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO")

    async def handle(conn: asyncpg.Connection, envelope: Envelope, event: DomainEvent) -> None:
        log.info("handled in the service layer")

    producer = make_producer(broker.bootstrap_servers)
    await producer.start()
    try:
        consumer = EventConsumer("corr-test", pool, schema, EventRegistry([Noted]), handle, producer)
        envelope = Envelope(
            id=str(uuid.uuid4()), source="/t", type=Noted.ce_type(), data={"n": 1}, correlation_id="talon-7"
        )
        record = RawRecord("t.topic", 0, 0, b"k", envelope.body(), envelope.to_headers())
        assert await consumer.process(record) is Outcome.HANDLED
    finally:
        await producer.stop()
    [line] = [line for line in _lines(capsys) if line["event"] == "handled in the service layer"]
    assert line["correlation_id"] == "talon-7" and line["event_id"] == envelope.id
    log.info("after the handler")
    [after] = [line for line in _lines(capsys) if line["event"] == "after the handler"]
    assert "event_id" not in after  # the binding ends with the handler
