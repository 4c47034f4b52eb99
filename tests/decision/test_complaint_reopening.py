"""An upheld complaint published on `complaints.v1` reopens the decided case, once.

The complaints service decides complaints (its reviewer, its scope checks); the decision service
only acts on the published outcome: `ComplaintResolved` with `reopen_case` reopens the case
(`ApplicationReopened`, a new term), a rejected complaint changes nothing, and a redelivered
outcome has no second effect.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from services.decision.bootstrap import consumed_registry
from services.decision.entrypoints.api import create_app
from services.decision.entrypoints.kafka_handlers import consumer_handler
from services.decision.service import DecisionService
from shared.contracts.complaints import ComplaintOutcome, ComplaintResolved
from shared.messaging.consumer import EventConsumer, Outcome
from shared.messaging.envelope import Envelope
from shared.messaging.raw import RawRecord

from .conftest import FakeClock
from .test_api import HEAD, SECRET, SPEC, _open, _to_signature


@pytest.fixture
async def client(service: DecisionService) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(service, token_secret=SECRET)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://decision") as http:
        yield http


class _NoProducer:
    async def send_and_wait(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("nothing here is dead-lettered")


def _resolved(
    aid: str, outcome: ComplaintOutcome, reopen: bool, contested: datetime | None = None
) -> RawRecord:
    event = ComplaintResolved(
        complaint_id=f"cmp-{uuid.uuid4().hex[:6]}",
        application_id=aid,
        subject="decision",
        service_id="targeted_social_assistance",
        office_id="akmola-village-1",
        reviewing_office="akmola",
        outcome=outcome,
        reasoning="the inspection act left out a household member",
        reviewed_by="reviewer-7",
        resolved_at=datetime(2012, 12, 20, 6, tzinfo=UTC),
        on_time=True,
        reopen_case=reopen,
        contested_decision_at=contested,
    )
    envelope = Envelope(
        id=str(uuid.uuid4()),
        source="/qyzmet/complaints",
        type=ComplaintResolved.ce_type(),
        data=event.model_dump(mode="json"),
        subject=event.complaint_id,
        actor="reviewer-7",
        office="akmola",
    )
    return RawRecord("complaints.v1", 0, 0, aid.encode(), envelope.body(), envelope.to_headers())


async def _decided(client: httpx.AsyncClient, service: DecisionService) -> str:
    aid = await _open(service)
    await _to_signature(client, aid)
    assert (await client.post(f"/v1/cases/{aid}/sign", headers=HEAD)).status_code == 200
    return aid


async def test_an_upheld_complaint_reopens_the_case_once(
    client: httpx.AsyncClient, service: DecisionService, clock: FakeClock
) -> None:
    aid = await _decided(client, service)
    clock.now = datetime(2012, 12, 20, 7, tzinfo=UTC)
    consumer = EventConsumer(
        "decision-applications",
        service.pool,
        service.schema,
        consumed_registry(),
        consumer_handler(service, service.settings.source),
        _NoProducer(),  # type: ignore[arg-type]
    )
    record = _resolved(aid, "upheld", reopen=True)
    assert await consumer.process(record) is Outcome.HANDLED
    assert await consumer.process(record) is Outcome.DUPLICATE
    history = await service.history(aid)
    reopened = [h for h in history if h["type"] == "decision.application_reopened"]
    assert len(reopened) == 1
    assert reopened[0]["data"]["reopened_by"] == "reviewer-7"
    assert reopened[0]["data"]["complaint_id"].startswith("cmp-")
    reason = reopened[0]["data"]["reason"]
    assert "upheld" in reason and "household member" not in reason  # the reasoning stays with complaints
    state = await service.get(aid)
    assert state.status.value == "under_review" and state.decision is None


async def test_a_rejected_complaint_leaves_the_decision_standing(
    client: httpx.AsyncClient, service: DecisionService
) -> None:
    aid = await _decided(client, service)
    consumer = EventConsumer(
        "decision-applications",
        service.pool,
        service.schema,
        consumed_registry(),
        consumer_handler(service, service.settings.source),
        _NoProducer(),  # type: ignore[arg-type]
    )
    assert await consumer.process(_resolved(aid, "rejected", reopen=False)) is Outcome.HANDLED
    state = await service.get(aid)
    assert state.decision is not None and state.reopened == 0


async def test_an_outcome_about_a_decision_no_longer_in_force_leaves_the_case_alone(
    client: httpx.AsyncClient, service: DecisionService, clock: FakeClock
) -> None:
    aid = await _decided(client, service)
    first = (await service.get(aid)).decision
    assert first is not None
    consumer = EventConsumer(
        "decision-applications",
        service.pool,
        service.schema,
        consumed_registry(),
        consumer_handler(service, service.settings.source),
        _NoProducer(),  # type: ignore[arg-type]
    )
    clock.now = datetime(2012, 12, 20, 7, tzinfo=UTC)
    assert await consumer.process(_resolved(aid, "upheld", True, first.decided_at)) is Outcome.HANDLED
    r = await client.post(f"/v1/cases/{aid}/draft", json={"amount": "4500"}, headers=SPEC)
    assert r.status_code == 200, r.text
    assert (await client.post(f"/v1/cases/{aid}/sign", headers=HEAD)).status_code == 200
    second = (await service.get(aid)).decision
    assert second is not None and second.decided_at != first.decided_at
    # A second complaint against the first decision, upheld later: the decision it contested is gone.
    assert await consumer.process(_resolved(aid, "upheld", True, first.decided_at)) is Outcome.HANDLED
    state = await service.get(aid)
    assert state.decision == second and state.reopened == 1
    # One against the decision in force reopens it.
    assert await consumer.process(_resolved(aid, "upheld", True, second.decided_at)) is Outcome.HANDLED
    assert (await service.get(aid)).reopened == 2
