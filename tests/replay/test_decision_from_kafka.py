"""`qyzmet replay decision --source kafka`: the `cases` rows rebuilt from the topics equal the live
ones for cases of a service with an inspection and a head's signature, also a case whose draft
waits for the signature (the draft stays internal; that it waits is published) and one whose
draft was returned. The opening comes from the application's submission on `applications.v1`."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import date

import asyncpg
import pytest

from services.decision.bootstrap import route
from services.decision.domain import commands as c
from services.decision.projections import CASES
from services.decision.service import DecisionService
from shared.contracts.applications import ApplicationSubmitted
from shared.contracts.decisions import InspectionAct
from shared.eventstore import EventStore
from shared.infra import KafkaHandle
from shared.messaging.envelope import Envelope
from shared.messaging.kafka import make_producer
from shared.messaging.relay import OutboxRelay
from shared.messaging.topics import TopicSpec, ensure_topics
from shared.replay.engine import replay_from_kafka, verify
from tests.decision.helpers import HEAD, INSPECTOR, SPECIALIST, act_json, submitted
from tests.replay.system import eventually

TOPICS = ("applications.v1", "decisions.v1", "inspections.v1")


@pytest.fixture
async def target(pool: asyncpg.Pool, decision_schema: str) -> AsyncIterator[str]:
    yield f"{decision_schema}_rk"
    async with pool.acquire() as conn:
        await conn.execute(f"DROP SCHEMA IF EXISTS {decision_schema}_rk CASCADE")


async def _caught_up(relay: OutboxRelay) -> bool:
    return relay.published > 0 and await relay.lag() == 0


async def _drafted(service: DecisionService, sub: ApplicationSubmitted) -> str:
    aid = sub.application_id
    await service.execute(aid, c.OpenCase(sub))
    await service.execute(aid, c.AssignExecutor(HEAD, "spec-1"))
    await service.execute(aid, c.ScheduleInspection(INSPECTOR, date(2012, 11, 17)))
    await service.execute(aid, c.RecordInspection(INSPECTOR, InspectionAct.model_validate(act_json())))
    await service.execute(aid, c.DraftDecision(SPECIALIST, amount="4000"))
    return aid


async def test_cases_from_kafka_equal_the_live_ones_also_awaiting_signature_or_returned(
    service: DecisionService,
    pool: asyncpg.Pool,
    decision_schema: str,
    broker: KafkaHandle,
    topic_prefix: str,
    target: str,
) -> None:
    ensure_topics(broker.bootstrap_servers, [TopicSpec(topic_prefix + t, 2) for t in TOPICS])
    subs = [submitted() for _ in range(3)]
    waiting, signed, returned = [await _drafted(service, sub) for sub in subs]
    await service.execute(signed, c.SignDecision(HEAD))
    await service.execute(returned, c.ReturnForRework(HEAD, "recount the household's income"))

    producer = make_producer(broker.bootstrap_servers, idempotent=broker.kind != "tansu")
    await producer.start()
    try:
        for sub in subs:  # what intake's relay publishes for each submission
            envelope = Envelope(
                id=sub.application_id, source="/qyzmet/intake", type=ApplicationSubmitted.ce_type(),
                data=sub.model_dump(mode="json"), time=sub.received_at,
                subject=f"application-{sub.application_id}",
            )  # fmt: skip
            await producer.send_and_wait(
                topic_prefix + "applications.v1", envelope.body(), key=sub.application_id.encode(),
                headers=envelope.to_headers(),
            )  # fmt: skip
        relay = OutboxRelay(
            pool, EventStore(decision_schema), producer, route(topic_prefix), service.settings.source
        )
        stop = asyncio.Event()
        task = asyncio.create_task(relay.run(stop))
        await eventually(lambda: _caught_up(relay), "the relay")
        stop.set()
        await task
    finally:
        await producer.stop()

    spec = dataclasses.replace(CASES, schema=lambda: decision_schema)
    result = await replay_from_kafka(pool, spec, target, broker.bootstrap_servers, topic_prefix)
    [cases] = await verify(pool, spec, result, from_kafka=True)
    assert (cases.compared, cases.differing) == (3, 0), [str(d) for d in cases.shown]
    async with pool.acquire() as conn:
        statuses = dict(await conn.fetch(f"SELECT application_id, status FROM {target}.cases"))
    assert statuses == {waiting: "awaiting_signature", signed: "active", returned: "under_review"}
