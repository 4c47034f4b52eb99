"""A full targeted-social-assistance case through the real pipeline (PostgreSQL + broker):
ApplicationSubmitted on applications.v1 (village akim) -> case -> head assigns -> inspection
scheduled (HTTP) and completed (office system, inspections.v1) -> drafted -> signed ->
DecisionMade with grounds on decisions.v1."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from services.decision.bootstrap import APPLICATIONS_TOPIC, DECISIONS_TOPIC, INSPECTIONS_TOPIC, run_worker
from services.decision.entrypoints.api import create_app
from services.decision.service import DecisionService
from shared.contracts.decisions import InspectionAct, InspectionCompleted
from shared.contracts.event import DomainEvent
from shared.infra import KafkaHandle
from shared.messaging.envelope import Envelope, decode
from shared.messaging.kafka import make_producer
from shared.messaging.topics import TopicSpec, dlq_of, ensure_topics

from .conftest import FakeClock
from .helpers import act_json, submitted
from .test_api import HEAD, INSP, SECRET, SPEC


async def _send(
    producer: Any,
    topic: str,
    event: DomainEvent,
    key: str,
    source: str,
    ce_id: str | None = None,
    office: str | None = None,
) -> None:
    envelope = Envelope(
        id=ce_id or str(uuid.uuid4()),
        source=source,
        type=event.ce_type(),
        data=event.model_dump(mode="json"),
        subject=key,
        office=office,
    )
    await producer.send_and_wait(
        topic, value=envelope.body(), key=key.encode(), headers=envelope.to_headers()
    )


async def _read(bootstrap: str, topic: str, want: str, timeout_s: float = 30) -> list[Envelope]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    found: list[Envelope] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline and not any(e.type == want for e in found):
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                found.extend(decode(r.value, list(r.headers)) for r in records)
    finally:
        await consumer.stop()
    return found


async def _wait(predicate: Any, timeout_s: float = 30) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not await predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_full_tsa_case_through_the_pipeline(
    service: DecisionService, broker: KafkaHandle, topic_prefix: str, clock: FakeClock
) -> None:
    bootstrap = broker.bootstrap_servers
    topics = [topic_prefix + t for t in (APPLICATIONS_TOPIC, INSPECTIONS_TOPIC, DECISIONS_TOPIC)]
    ensure_topics(bootstrap, [TopicSpec(t, 3) for t in topics] + [TopicSpec(dlq_of(t), 1) for t in topics])
    producer = make_producer(bootstrap, idempotent=broker.kind != "tansu")
    await producer.start()
    stop = asyncio.Event()
    assigned = asyncio.Event()
    worker = asyncio.create_task(
        run_worker(
            service,
            producer,
            bootstrap,
            stop,
            prefix=topic_prefix,
            instance_id=f"{topic_prefix}w0",
            scheduler=False,
            assigned=assigned,
        )
    )
    app = create_app(service, token_secret=SECRET)
    try:
        await asyncio.wait_for(assigned.wait(), 60)  # the worker tells when its partitions came
        sub = submitted(channel="village_akim")
        aid = sub.application_id
        ce_id = str(uuid.uuid4())
        await _send(producer, topics[0], sub, aid, "/qyzmet/intake", ce_id)
        await _send(producer, topics[0], sub, aid, "/qyzmet/intake", ce_id)  # redelivery: no second effect

        async def opened() -> bool:
            return bool(await service.history(aid))

        await _wait(opened)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://decision"
        ) as http:
            r = await http.post(f"/v1/cases/{aid}/assign", json={"executor": "spec-1"}, headers=HEAD)
            assert r.status_code == 200, r.text
            r = await http.post(
                f"/v1/cases/{aid}/inspection/schedule", json={"inspection_date": "2012-11-17"}, headers=INSP
            )
            assert r.status_code == 200, r.text

            # The district commission's act arrives from the office system on inspections.v1.
            act = InspectionAct.model_validate(act_json(("15000", "6000")))  # per-capita 10500 > 9500
            command = InspectionCompleted(
                application_id=aid,
                office_id=sub.office_id,
                act=act,
                recorded_by="commission-akmola-7",
                recorded_at=clock.now,
            )
            await _send(producer, topics[1], command, aid, "/office/akmola-village-1", office=sub.office_id)

            async def inspected() -> bool:
                return (await service.get(aid)).inspection is not None

            await _wait(inspected)
            r = await http.post(f"/v1/cases/{aid}/draft", json={}, headers=SPEC)
            assert r.status_code == 200, r.text
            r = await http.post(f"/v1/cases/{aid}/sign", headers=HEAD)
            assert r.status_code == 200, r.text

        published = await _read(bootstrap, topics[2], "kz.qyzmet.decision.made.v1")
        made = [e for e in published if e.type == "kz.qyzmet.decision.made.v1"]
        assert len(made) == 1
        data = made[0].data
        assert made[0].subject == f"case-{aid}"
        # ЦОН subscribers filter by region from a header, without parsing the body.
        assert (made[0].region, made[0].office) == ("akmola", sub.office_id)
        household = data["evaluation"]["inputs"]["household"]
        assert household and all(m["full_name"] is None for m in household)  # minimal personal data
        assert "kz.qyzmet.decision.drafted.v1" not in {e.type for e in published}  # drafts stay inside
        assert data["application_id"] == aid and data["outcome"] == "refused"
        assert [g["id"] for g in data["grounds"]] == ["income_above_poverty_line"]
        assert data["signed_by"] == "head-1" and data["drafted_by"] == "spec-1"
        assert data["evaluation"]["edition_id"] == "akmola_2012_regulation"
        assert data["evaluation"]["inputs"]["channel"] == "village_akim"
        assert {c["id"]: c["holds"] for c in data["evaluation"]["conditions"]}["per_capita_income"] is False
        assert [e.type for e in published][:1] == ["kz.qyzmet.decision.executor_assigned.v1"]

        inspections = await _read(bootstrap, topics[1], "kz.qyzmet.inspection.completed.v1")
        ours = [e for e in inspections if e.source == service.settings.source]
        assert {e.type for e in ours} == {
            "kz.qyzmet.inspection.scheduled.v1",
            "kz.qyzmet.inspection.completed.v1",
        }
        history = await service.history(aid)
        assert [h["type"] for h in history].count("decision.case_opened") == 1
        assert [h["type"] for h in history].count("inspection.completed") == 1
    finally:
        stop.set()
        await worker
        await producer.stop()
