"""Intake and the decision service together over real PostgreSQL and a broker: intake's status
follows the case (decisions.v1), decision events carry intake's correlation id and the causing
event's id, the decision API honours X-Correlation-Id, and a withdrawal racing a decision
resolves one way in both services, in either order."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from services.decision.adapters.catalog import DecisionCatalog
from services.decision.bootstrap import DECISIONS_TOPIC, INSPECTIONS_TOPIC, run_worker
from services.decision.domain.model import Status as CaseStatus
from services.decision.entrypoints.api import create_app as decision_app
from services.decision.service import DecisionService
from services.decision.settings import DecisionSettings
from services.intake.bootstrap import APPLICATIONS_TOPIC, SOURCE, application_route
from services.intake.entrypoints.kafka_case_progress import CONSUMED_TOPICS, case_progress_consumer
from shared.auth.roles import Role
from shared.auth.tokens import issue_token
from shared.eventstore import EventStore
from shared.infra import KafkaHandle
from shared.messaging.envelope import Envelope, decode
from shared.messaging.kafka import make_consumer, make_producer
from shared.messaging.relay import OutboxRelay
from shared.messaging.topics import TopicSpec, dlq_of, ensure_topics
from shared.messaging.worker import consume_until
from tests.intake.conftest import APPLICANT_IIN, DEPT, SECRET, TSON, auth, unemployed_registration, wait_for
from tests.roles import provision_schema

SPECIALIST = {
    "Authorization": "Bearer " + issue_token(SECRET, subject="spec-1", role=Role.SPECIALIST, office=DEPT)
}


class Pipeline:
    """The two services' workers on one broker: intake's relay and case-step consumer, the
    decision worker (consumer of applications.v1, relay), and the decision API."""

    def __init__(
        self, pool: asyncpg.Pool, intake: Any, decision: DecisionService, broker: KafkaHandle, prefix: str
    ):
        self.pool, self.intake, self.decision, self.broker, self.prefix = (
            pool,
            intake,
            decision,
            broker,
            prefix,
        )
        self.stop = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.progress_stop: asyncio.Event | None = None
        self.progress_task: asyncio.Task[None] | None = None
        self.progress_runs = 0

    async def start(self) -> None:
        bootstrap = self.broker.bootstrap_servers
        self.producer = make_producer(bootstrap, idempotent=self.broker.kind != "tansu")
        await self.producer.start()
        applications = self.prefix + APPLICATIONS_TOPIC
        route = application_route(applications)
        relay = OutboxRelay(self.pool, EventStore(self.intake.schema), self.producer, route, SOURCE)
        self.tasks.append(asyncio.create_task(relay.run(self.stop)))
        self.tasks.append(
            asyncio.create_task(
                run_worker(
                    self.decision,
                    self.producer,
                    bootstrap,
                    self.stop,
                    prefix=self.prefix,
                    instance_id=self.prefix + "d0",
                    scheduler=False,
                )
            )
        )
        await self.start_progress()

    async def start_progress(self) -> None:
        """Intake's consumer of the case's steps (a new group each time: from the first record;
        the inbox makes a record handled before a no-op)."""
        self.progress_runs += 1
        kafka = make_consumer(
            self.broker.bootstrap_servers,
            [self.prefix + t for t in CONSUMED_TOPICS],
            group_id=f"{self.prefix}intake-progress-{self.progress_runs}",
            instance_id=f"{self.prefix}ip-{self.progress_runs}",
        )
        await kafka.start()
        consumer = case_progress_consumer(
            self.pool, self.intake.schema, self.intake.service, self.producer,
            source=self.decision.settings.source,
        )  # fmt: skip
        stop = asyncio.Event()

        async def run() -> None:
            try:
                await consume_until(kafka, consumer, stop)
            finally:
                await kafka.stop()

        self.progress_stop, self.progress_task = stop, asyncio.create_task(run())

    async def stop_progress(self) -> None:
        assert self.progress_stop is not None and self.progress_task is not None
        self.progress_stop.set()
        await self.progress_task

    async def close(self) -> None:
        if self.progress_stop is not None and not self.progress_stop.is_set():
            await self.stop_progress()
        self.stop.set()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.producer.stop()


@pytest.fixture
async def decision_service(
    decision_pool: asyncpg.Pool, admin_pool: asyncpg.Pool
) -> AsyncIterator[DecisionService]:
    """The decision service beside intake, as its own login role (qyzmet_decision)."""
    schema = f"td_{uuid.uuid4().hex[:12]}"
    await provision_schema(admin_pool, "decision", schema, catalog_schema=f"{schema}_cat")
    settings = DecisionSettings(catalog_schema=f"{schema}_cat", scheduler_interval_s=0.05)
    yield DecisionService(decision_pool, schema, DecisionCatalog.load(include_examples=True), settings)
    async with admin_pool.acquire() as conn:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema}_cat CASCADE")


@pytest.fixture
async def pipeline(
    intake_pool: asyncpg.Pool,
    app: Any,
    decision_service: DecisionService,
    broker: KafkaHandle,
    topic_prefix: str,
) -> AsyncIterator[Pipeline]:
    """Intake's relay and case-progress consumer as qyzmet_intake beside the decision worker
    (also where `pool` is another service's role: tests/notification/test_full_pipeline.py)."""
    topics = [topic_prefix + t for t in (APPLICATIONS_TOPIC, INSPECTIONS_TOPIC, DECISIONS_TOPIC)]
    ensure_topics(
        broker.bootstrap_servers,
        [TopicSpec(t, 2) for t in topics] + [TopicSpec(dlq_of(t), 1) for t in topics],
    )
    running = Pipeline(intake_pool, app.state.intake.deps, decision_service, broker, topic_prefix)
    await running.start()
    try:
        yield running
    finally:
        await running.close()


async def _published(bootstrap: str, topic: str, until: Callable[[list[Envelope]], bool]) -> list[Envelope]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    found: list[Envelope] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while not until(found):
            assert loop.time() < deadline, f"timed out reading {topic}"
            for records in (await consumer.getmany(timeout_ms=200)).values():
                found.extend(decode(r.value, list(r.headers)) for r in records)
    finally:
        await consumer.stop()
    return found


async def _eventually(check: Callable[[], Awaitable[Any]]) -> Any:
    return await wait_for(check, timeout=30.0, interval=0.05)


async def _submit(client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str]) -> str:
    answer = await client.post("/v1/applications", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    aid: str = answer.json()["application_id"]
    return aid


def _history(view: dict[str, Any]) -> list[str]:
    return [h["event_type"] for h in view["history"]]


async def test_an_automated_decision_reaches_intake_with_the_intake_correlation_and_causation(
    client: httpx.AsyncClient, pipeline: Pipeline, pool: asyncpg.Pool, intake_schema: str
) -> None:
    body = {
        "idempotency_key": str(uuid.uuid4()),
        "service_id": "pension_savings_account_info",
        "channel": "tson",
        "office_id": TSON,
        "applicant": {"iin": APPLICANT_IIN, "full_name": "Айгүл Нұрланова"},
        "documents": [{"document_id": "application_form"}, {"document_id": "identity_document"}],
    }
    headers = {**auth(Role.TSON, TSON), "X-Correlation-Id": "corr-intake-auto-1"}
    aid = await _submit(client, body, headers)
    made_type = "kz.qyzmet.decision.made.v1"
    published = await _published(
        pipeline.broker.bootstrap_servers,
        pipeline.prefix + DECISIONS_TOPIC,
        lambda found: any(e.type == made_type and e.data["application_id"] == aid for e in found),
    )
    made = next(e for e in published if e.type == made_type and e.data["application_id"] == aid)
    async with pool.acquire() as conn:
        submitted_id = await conn.fetchval(
            f"SELECT event_id::text FROM {intake_schema}.events"
            " WHERE stream_id = $1 AND event_type = 'application.submitted'",
            f"application-{aid}",
        )
    assert made.correlation_id == "corr-intake-auto-1"
    assert made.causation_id == submitted_id  # ce_causationid: the intake event that caused it

    async def decided() -> dict[str, Any] | None:
        view = (await client.get(f"/v1/applications/{aid}", headers=auth(Role.TSON, TSON))).json()
        return view if view["status"] == "decided" else None

    view = await _eventually(decided)
    assert view["decision"]["outcome"] == made.data["outcome"] and view["overdue"] is False
    assert "decision.made" in _history(view)


async def test_withdrawal_first_closes_the_case_and_the_signature_is_refused(
    client: httpx.AsyncClient, pipeline: Pipeline
) -> None:
    decision = pipeline.decision
    aid = await _submit(client, unemployed_registration(), auth())

    async def opened() -> bool:
        return bool(await decision.history(aid))

    await _eventually(opened)
    withdrawn = await client.post(f"/v1/applications/{aid}/withdrawal", json={"reason": "x"}, headers=auth())
    assert withdrawn.status_code == 200, withdrawn.text

    async def closed() -> bool:
        return (await decision.get(aid)).status is CaseStatus.WITHDRAWN

    await _eventually(closed)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=decision_app(decision, token_secret=SECRET)), base_url="http://d"
    ) as http:
        late = await http.post(f"/v1/cases/{aid}/draft", json={"outcome": "approved"}, headers=SPECIALIST)
    assert late.status_code == 409 and "withdrawn" in late.json()["detail"]

    async def told() -> dict[str, Any] | None:
        view = (await client.get(f"/v1/applications/{aid}", headers=auth())).json()
        return view if "decision.case_withdrawn" in _history(view) else None

    view = await _eventually(told)
    assert view["status"] == "withdrawn" and view["decision"] is None and view["overdue"] is False


async def test_signature_first_the_decision_stands_in_both_services_and_overrides_the_withdrawal(
    client: httpx.AsyncClient, pipeline: Pipeline
) -> None:
    decision = pipeline.decision
    await pipeline.stop_progress()  # intake does not learn of the decision before the withdrawal
    aid = await _submit(client, unemployed_registration(), auth())

    async def opened() -> bool:
        return bool(await decision.history(aid))

    await _eventually(opened)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=decision_app(decision, token_secret=SECRET)), base_url="http://d"
    ) as http:
        headers = {**SPECIALIST, "X-Correlation-Id": "corr-desk-42"}
        signed = await http.post(f"/v1/cases/{aid}/draft", json={"outcome": "approved"}, headers=headers)
    assert signed.status_code == 200, signed.text
    assert (await decision.get(aid)).decision is not None
    # The decision API honours X-Correlation-Id: the stored events and the audit record carry it
    # (read as the decision service's role: intake's may not see the decision schema).
    async with decision.pool.acquire() as conn:
        stored = await conn.fetch(
            f"SELECT event_type, metadata FROM {decision.schema}.events WHERE stream_id = $1"
            " AND event_type IN ('decision.drafted', 'decision.made')",
            f"case-{aid}",
        )
        audit = await conn.fetch(
            f"SELECT action, correlation_id FROM {decision.schema}.audit_log WHERE subject = $1",
            f"application:{aid}",
        )
    assert len(stored) == 2 and {r["metadata"]["correlation_id"] for r in stored} == {"corr-desk-42"}
    assert [(r["action"], r["correlation_id"]) for r in audit] == [("decision.draft", "corr-desk-42")]

    accepted = await client.post(f"/v1/applications/{aid}/withdrawal", json={}, headers=auth())
    assert accepted.status_code == 200  # intake does not know of the decision yet

    async def too_late() -> bool:
        return "decision.withdrawal_too_late" in [h["type"] for h in await decision.history(aid)]

    await _eventually(too_late)
    assert (await decision.get(aid)).status is CaseStatus.DECIDED  # the decision stands

    await pipeline.start_progress()

    async def overridden() -> dict[str, Any] | None:
        view = (await client.get(f"/v1/applications/{aid}", headers=auth())).json()
        return view if "decision.withdrawal_too_late" in _history(view) else None

    view = await _eventually(overridden)
    assert view["status"] == "decided" and view["decision"]["outcome"] == "approved"
    assert _history(view) == [
        "application.submitted",
        "application.withdrawn",
        "decision.made",
        "application.withdrawal_overridden",
        "decision.withdrawal_too_late",
    ]
    again = await client.post(f"/v1/applications/{aid}/withdrawal", json={}, headers=auth())
    assert again.status_code == 409 and again.json()["title"] == "Decision already signed"
