"""The complaints worker on a real broker: the applications read model from applications.v1 and
decisions.v1, FileComplaint commands from complaints.submissions.v1 (idempotent; poison to the
dead-letter topic with its reason), and the outbox relay to complaints.v1, where an upheld
complaint against a decision is published with `reopen_case=True`."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI

from services.complaints.bootstrap import COMPLAINTS_TOPIC, SOURCE, SUBMISSIONS_TOPIC, route
from services.complaints.entrypoints.kafka import facts_consumer, submission_consumer
from shared.auth.roles import Role
from shared.contracts.complaints import FileComplaint
from shared.contracts.event import DomainEvent
from shared.eventstore import EventStore
from shared.infra import KafkaHandle
from shared.messaging.consumer import EventConsumer, Outcome, Redelivery
from shared.messaging.envelope import Envelope, decode
from shared.messaging.kafka import make_consumer, make_producer
from shared.messaging.relay import OutboxRelay
from shared.messaging.topics import TopicSpec, dlq_of, ensure_topics
from shared.messaging.worker import consume_until
from tests.complaints.conftest import (
    DEPT,
    REGISTERED_AT,
    REVIEWING,
    auth,
    complaint_body,
    decided,
    submitted,
)

OFFICER = "clerk.officer@" + DEPT


def _record(event: DomainEvent, **headers: bytes | None) -> tuple[bytes, list[tuple[str, bytes]]]:
    envelope = Envelope(
        id=str(uuid.uuid4()), source="/office-systems/test", type=type(event).ce_type(),
        data=event.model_dump(mode="json"), correlation_id="corr-" + uuid.uuid4().hex[:6],
        actor=OFFICER, office=DEPT,
    )  # fmt: skip
    raw = envelope.to_headers()
    for name, value in headers.items():
        raw = [(k, v) for k, v in raw if k != name] + ([(name, value)] if value is not None else [])
    return envelope.body(), raw


async def _drain(bootstrap: str, topic: str, expected: int, timeout_s: float = 20) -> list[Any]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    out: list[Any] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while len(out) < expected and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                out.extend(records)
    finally:
        await consumer.stop()
    return out


async def _consume(
    broker: KafkaHandle, topics: list[str], group: str, consumer: EventConsumer, count: int
) -> None:
    kafka = make_consumer(broker.bootstrap_servers, topics, group_id=group, instance_id=group + "-0")
    await kafka.start()
    stop = asyncio.Event()
    task = asyncio.create_task(consume_until(kafka, consumer, stop))
    try:
        for _ in range(400):
            if sum(n for o, n in consumer.counts.items() if o is not Outcome.DEFERRED) >= count:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
        await kafka.stop()


@pytest.mark.tansu
async def test_complaints_from_kafka_and_the_upheld_outcome_on_complaints_v1(
    pool: asyncpg.Pool,
    complaints_schema: str,
    broker: KafkaHandle,
    topic_prefix: str,
    app: FastAPI,
    client: httpx.AsyncClient,
) -> None:
    submissions, published = topic_prefix + SUBMISSIONS_TOPIC, topic_prefix + COMPLAINTS_TOPIC
    applications, decisions = topic_prefix + "applications.v1", topic_prefix + "decisions.v1"
    ensure_topics(
        broker.bootstrap_servers,
        [TopicSpec(t, 2) for t in (submissions, published, applications, decisions)]
        + [
            TopicSpec(dlq_of(submissions), 1),
            TopicSpec(dlq_of(applications), 1),
            TopicSpec(dlq_of(decisions), 1),
        ],
    )
    decided_app, undecided_app = submitted(), submitted()
    good = FileComplaint.model_validate(complaint_body(decided_app.application_id))
    reused = FileComplaint.model_validate({**good.model_dump(mode="json"), "text": "another text"})
    undecided = FileComplaint.model_validate(complaint_body(undecided_app.application_id))
    poison = [
        (b"{not json", _record(good)[1], "not valid JSON"),
        (json.dumps({**good.model_dump(mode="json"), "surprise": 1}).encode(), _record(good)[1], "surprise"),
        (*_record(good, ce_actor=None), "ce_actor"),
        (*_record(good, ce_office=None), "ce_office"),
        (*_record(good, ce_type=b"kz.qyzmet.complaints.teleport.v1"), "unknown event type"),
        (*_record(undecided), "no decision has been made"),
    ]
    raw = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
    await raw.start()
    try:
        for event in (decided_app, undecided_app):
            value, headers = _record(event)
            await raw.send_and_wait(applications, value=value, headers=headers)
        decision = decided(decided_app, REGISTERED_AT - timedelta(days=5))
        value, headers = _record(decision)
        await raw.send_and_wait(decisions, value=value, headers=headers)
        for value, headers in (_record(good), _record(good)):  # the same command twice
            await raw.send_and_wait(submissions, value=value, key=DEPT.encode(), headers=headers)
        value, headers = _record(reused)  # a key reused with another body, after the first
        await raw.send_and_wait(submissions, value=value, key=DEPT.encode(), headers=headers)
        for value, headers, _ in poison:
            await raw.send_and_wait(submissions, value=value, key=DEPT.encode(), headers=headers)
    finally:
        await raw.stop()

    service = app.state.complaints.service
    producer = make_producer(broker.bootstrap_servers, idempotent=broker.kind != "tansu")
    await producer.start()
    try:
        facts = facts_consumer(pool, complaints_schema, producer)
        await _consume(broker, [applications, decisions], topic_prefix + "facts", facts, 3)
        assert facts.counts[Outcome.HANDLED] == 3
        brief = Redelivery(initial_delay=0.02, max_delay=0.05, retry_later_budget_s=0.5)  # the undecided one
        commands = submission_consumer(pool, complaints_schema, service, producer, brief)
        await _consume(broker, [submissions], topic_prefix + "cmds", commands, 3 + len(poison))
        assert {o: n for o, n in commands.counts.items() if o is not Outcome.DEFERRED} == {
            Outcome.HANDLED: 2,
            Outcome.DUPLICATE: 0,
            Outcome.DEAD_LETTERED: 1 + len(poison),
        }

        listed = (
            await client.get(f"/v1/complaints?application={decided_app.application_id}", headers=auth())
        ).json()
        assert len(listed["items"]) == 1  # the command sent twice is one complaint
        complaint = listed["items"][0]
        assert (complaint["registered_by"], complaint["reviewing_office"]) == (OFFICER, REVIEWING)
        resolved = await client.post(
            f"/v1/complaints/{complaint['complaint_id']}/resolution",
            json={"outcome": "upheld", "reasoning": "the household income was misread"},
            headers=auth(Role.REVIEWER, REVIEWING),
        )
        assert resolved.status_code == 200

        relay = OutboxRelay(pool, EventStore(complaints_schema), producer, route(topic_prefix), SOURCE)
        stop = asyncio.Event()
        relaying = asyncio.create_task(relay.run(stop))
        try:
            records = await _drain(broker.bootstrap_servers, published, 2)
        finally:
            stop.set()
            await relaying
    finally:
        await producer.stop()

    envelopes = [decode(r.value, list(r.headers)) for r in records]
    assert [e.type for e in envelopes] == [
        "kz.qyzmet.complaint.registered.v1",
        "kz.qyzmet.complaint.resolved.v1",
    ]
    outcome = envelopes[1].data
    assert (outcome["outcome"], outcome["reopen_case"], outcome["application_id"]) == (
        "upheld", True, decided_app.application_id,
    )  # fmt: skip
    assert outcome["reviewed_by"] == f"reviewer.officer@{REVIEWING}"
    assert envelopes[0].data["complainant"]["full_name"]  # the notification service answers the complainant

    dead = await _drain(broker.bootstrap_servers, dlq_of(submissions), 1 + len(poison))
    reasons = [dict(r.headers)["dlq_reason"].decode() for r in dead]
    assert len(reasons) == 1 + len(poison)
    for expected in [*(why for _, _, why in poison), "idempotency key reused"]:
        assert any(expected in reason.lower() or expected in reason for reason in reasons), (
            expected,
            reasons,
        )
    assert not any("Айгүл" in reason for reason in reasons)
