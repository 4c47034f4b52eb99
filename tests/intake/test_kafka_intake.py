"""Kafka intake on a real broker: commands become the same state as over HTTP; poison goes to the DLQ."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from services.intake.adapters.catalog import CatalogAdapter
from services.intake.adapters.offices import OfficeBook
from services.intake.bootstrap import (
    APPLICATIONS_TOPIC,
    SOURCE,
    SUBMISSIONS_TOPIC,
    application_route,
    build,
)
from services.intake.entrypoints.kafka_submissions import submission_consumer
from shared.contracts.applications import SubmitApplication
from shared.eventstore import EventStore
from shared.infra import KafkaHandle
from shared.messaging.consumer import Outcome
from shared.messaging.envelope import Envelope, decode
from shared.messaging.kafka import make_consumer, make_producer
from shared.messaging.relay import OutboxRelay
from shared.messaging.topics import TopicSpec, dlq_of, ensure_topics
from shared.messaging.worker import consume_until
from tests.intake.conftest import DEPT, auth, unemployed_registration, wait_for

OFFICER = "clerk.officer@" + DEPT


def _command(body: dict[str, Any], correlation: str, **changes: Any) -> tuple[bytes, list[tuple[str, bytes]]]:
    envelope = Envelope(
        id=str(uuid.uuid4()),
        source="/office-systems/karaganda-dept-01",
        type=SubmitApplication.ce_type(),
        data=body,
        correlation_id=correlation,
        actor=OFFICER,
        office=DEPT,
    )
    headers = envelope.to_headers()
    for name, value in changes.items():
        headers = [(k, v) for k, v in headers if k != name]
        if value is not None:
            headers.append((name, value))
    return envelope.body(), headers


async def _drain(bootstrap: str, topic: str, expected: int, timeout_s: float = 20) -> list[Any]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    out: list[Any] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while len(out) < expected and loop.time() < deadline:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                out.extend(records)
    finally:
        await consumer.stop()
    return out


def _comparable(row: dict[str, Any]) -> dict[str, Any]:
    ignored = {
        "application_id",
        "registration_number",
        "submitted_at",
        "updated_at",
        "correlation_id",
        "due_at",
    }
    return {k: v for k, v in row.items() if k not in ignored}


@pytest.mark.tansu
async def test_kafka_submissions_reach_the_same_state_and_poison_is_dead_lettered(
    pool: asyncpg.Pool,
    intake_schema: str,
    broker: KafkaHandle,
    topic_prefix: str,
    catalog: CatalogAdapter,
    offices: OfficeBook,
    client: httpx.AsyncClient,
) -> None:
    submissions = topic_prefix + SUBMISSIONS_TOPIC
    applications = topic_prefix + APPLICATIONS_TOPIC
    ensure_topics(
        broker.bootstrap_servers,
        [TopicSpec(submissions, 2), TopicSpec(dlq_of(submissions), 1), TopicSpec(applications, 2)],
    )
    good = unemployed_registration()
    incomplete = unemployed_registration(documents=[{"document_id": "identity_card"}])
    reused_key = {**good, "documents": good["documents"][:2]}
    raw = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
    await raw.start()
    try:
        sends = [
            _command(good, "corr-good"),
            _command(good, "corr-good-again"),  # same key and body: the first outcome, answered again
            _command(incomplete, "corr-incomplete"),
        ]
        poison = [
            (b"{not json", _command(good, "p1")[1], "not valid JSON"),
            (json.dumps({**good, "surprise": 1}).encode(), _command(good, "p2")[1], "surprise"),
            (*_command(unemployed_registration(), "p3", ce_actor=None), "ce_actor"),
            (*_command(good, "p4", ce_type=b"kz.qyzmet.intake.teleport.v1"), "unknown event type"),
            (*_command(reused_key, "p5"), "idempotency"),
            (*_command(unemployed_registration(), "p6", ce_office=b"akmola-dept-01"), "ce_office"),
            (*_command(unemployed_registration(), "p7", ce_office=None), "missing header ce_office"),
        ]
        for value, headers in sends:
            await raw.send_and_wait(submissions, value=value, key=DEPT.encode(), headers=headers)
        for value, headers, _ in poison:
            await raw.send_and_wait(submissions, value=value, key=DEPT.encode(), headers=headers)
    finally:
        await raw.stop()

    deps = build(pool, intake_schema, catalog=catalog, offices=offices)
    producer = make_producer(broker.bootstrap_servers, idempotent=broker.kind != "tansu")
    await producer.start()
    kafka_consumer = make_consumer(
        broker.bootstrap_servers,
        [submissions],
        group_id=topic_prefix + "intake",
        instance_id=topic_prefix + "i-0",
    )
    await kafka_consumer.start()
    consumer = submission_consumer(
        pool, intake_schema, deps.service, producer, applications_topic=applications
    )
    relay = OutboxRelay(pool, EventStore(intake_schema), producer, application_route(applications), SOURCE)
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(consume_until(kafka_consumer, consumer, stop)),
        asyncio.create_task(relay.run(stop)),
    ]
    try:
        for _ in range(400):
            if sum(consumer.counts.values()) >= len(sends) + len(poison):
                break
            await asyncio.sleep(0.05)
        published = await _drain(broker.bootstrap_servers, applications, 3)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        await kafka_consumer.stop()
        await producer.stop()

    assert consumer.counts == {Outcome.HANDLED: 3, Outcome.DUPLICATE: 0, Outcome.DEAD_LETTERED: len(poison)}
    outcomes = {}
    for record in published:
        envelope = decode(record.value, list(record.headers))
        outcomes[envelope.correlation_id] = envelope
    assert set(outcomes) == {"corr-good", "corr-good-again", "corr-incomplete"}
    accepted, refused = outcomes["corr-good"], outcomes["corr-incomplete"]
    submitted_ids = {
        decode(r.value, list(r.headers)).id
        for r in await _drain(broker.bootstrap_servers, applications, 10, timeout_s=2)
        if dict(r.headers)["ce_type"] == b"kz.qyzmet.application.submitted.v1"
    }
    assert len(submitted_ids) == 1  # no answer about an application a rolled-back batch never made
    again = outcomes["corr-good-again"]  # the same event (same id: no second effect downstream)
    assert (again.id, again.type, again.data) == (accepted.id, accepted.type, accepted.data)
    assert accepted.type == "kz.qyzmet.application.submitted.v1"
    assert refused.type == "kz.qyzmet.application.rejected_at_intake.v1"
    assert {p["document_id"] for p in refused.data["problems"]} >= {"sic_certificate", "income_statement"}
    assert accepted.actor == OFFICER and accepted.subject == f"application-{accepted.data['application_id']}"

    dead = await _drain(broker.bootstrap_servers, dlq_of(submissions), len(poison))
    reasons = sorted(dict(r.headers)["dlq_reason"].decode() for r in dead)
    assert len(dead) == len(poison)
    for _, _, expected in poison:
        assert any(expected in reason for reason in reasons), (expected, reasons)

    # The same submission over HTTP reaches the same projected state.
    over_http = await client.post(
        "/v1/applications",
        json={**good, "idempotency_key": "http-" + good["idempotency_key"]},
        headers=auth(),
    )
    assert over_http.status_code == 201
    wanted = {
        accepted.data["application_id"],
        refused.data["application_id"],
        over_http.json()["application_id"],
    }

    async def projected() -> dict[str, dict[str, Any]] | None:
        # The gap-safe projector sees an event once every older transaction in the cluster ended.
        await deps.projector.run_once()
        async with pool.acquire() as conn:
            found = {
                str(r["application_id"]): dict(r)
                for r in await conn.fetch(f"SELECT * FROM {intake_schema}.applications")
            }
        return found if wanted <= set(found) else None

    rows = await wait_for(projected, timeout=15)
    kafka_row = rows[accepted.data["application_id"]]
    http_row = rows[over_http.json()["application_id"]]
    assert kafka_row["status"] == "submitted"
    assert kafka_row["correlation_id"] == "corr-good"
    assert _comparable(kafka_row) == _comparable(http_row)
    assert rows[refused.data["application_id"]]["status"] == "rejected"
