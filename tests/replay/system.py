"""All four services in one process on real PostgreSQL and the real broker, wired as `qyzmet run`
wires them (relays, Kafka consumers, the decision and notification workers, the intake status
projector), driven through their APIs and service layers: applications submitted at intake,
decided in the decision service (some refused, some approved), complaints registered and
answered (upheld ones reopen the case, which is decided again), the applicant told of each by
SMS. Used by the replay tests: the live projections it leaves are what a replay must reproduce."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import asyncpg
import httpx

from services.complaints.bootstrap import COMPLAINTS_TOPIC
from services.complaints.bootstrap import route as complaints_route
from services.complaints.entrypoints.api import create_app as complaints_app
from services.complaints.entrypoints.kafka import facts_consumer
from services.decision.adapters.catalog import DecisionCatalog
from services.decision.bootstrap import run_worker as decision_worker
from services.decision.domain import commands as c
from services.decision.service import DecisionService
from services.decision.settings import DecisionSettings
from services.intake.adapters.projection import ApplicationProjector
from services.intake.bootstrap import APPLICATIONS_TOPIC, SOURCE, application_route
from services.intake.entrypoints.api import create_app as intake_app
from services.intake.entrypoints.kafka_case_progress import CONSUMED_TOPICS, case_progress_consumer
from services.notification.bootstrap import run_worker as notification_worker
from services.notification.service import NotificationService
from shared.auth.roles import Role
from shared.auth.tokens import issue_token
from shared.eventstore import EventStore
from shared.infra import KafkaHandle
from shared.messaging.kafka import make_consumer, make_producer
from shared.messaging.relay import OutboxRelay
from shared.messaging.topics import TopicSpec, dlq_of, ensure_topics
from shared.messaging.worker import consume_until
from tests.complaints.conftest import complaint_body
from tests.intake.conftest import DEPT, unemployed_registration
from tests.notification.conftest import settings_for
from tests.roles import provision_schema

SECRET = "replay-system-secret-" + "r" * 32
TOPICS = (APPLICATIONS_TOPIC, "inspections.v1", "decisions.v1", COMPLAINTS_TOPIC, "notifications.v1")
HEAD = c.Actor("head-1", "head", DEPT)
SPECIALIST = c.Actor("spec-1", "specialist", DEPT)


PARALLEL = 8
"""Requests under way at once while populating."""


async def _at_most(limit: int, calls: list[Callable[[], Awaitable[Any]]]) -> list[Any]:
    """Run the calls, `limit` at a time; their results in order."""
    gate = asyncio.Semaphore(limit)

    async def one(call: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await call()

    return list(await asyncio.gather(*(one(call) for call in calls)))


def _auth(role: Role, office: str, subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, subject=subject, role=role, office=office)}"}


async def eventually(check: Callable[[], Awaitable[Any]], what: str, timeout_s: float = 60.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        found = await check()
        if found:
            return found
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


@dataclass
class System:
    """The four services, each as its own login role (`roles`: service -> its pool, on schemas
    provisioned as the owner); `pool` is the administrator's, for the replay (`qyzmet replay`
    runs with DATABASE_URL), the checks across schemas and dropping the schemas."""

    pool: asyncpg.Pool
    roles: dict[str, asyncpg.Pool]
    broker: KafkaHandle
    prefix: str
    schemas: dict[str, str] = field(default_factory=dict)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    apps: dict[str, Any] = field(default_factory=dict)

    async def start(self) -> None:
        tag = uuid.uuid4().hex[:8]
        self.schemas = {s: f"rp{s[0]}_{tag}" for s in ("intake", "decision", "complaints", "notification")}
        for service, schema in self.schemas.items():
            await provision_schema(self.pool, service, schema, catalog_schema=f"{schema}_cat")
        topics = [self.prefix + t for t in TOPICS]
        ensure_topics(
            self.broker.bootstrap_servers,
            [TopicSpec(t, 2) for t in topics] + [TopicSpec(dlq_of(t), 1) for t in topics],
        )
        bootstrap = self.broker.bootstrap_servers
        self.producer = make_producer(bootstrap, idempotent=self.broker.kind != "tansu")
        await self.producer.start()
        intake = intake_app(
            self.roles["intake"], schema=self.schemas["intake"], run_projector=True, token_secret=SECRET
        )
        await intake.state.intake.start()
        complaints = complaints_app(
            self.roles["complaints"], schema=self.schemas["complaints"], token_secret=SECRET
        )
        await complaints.state.complaints.start()
        self.apps = {"intake": intake, "complaints": complaints}
        self.decision = DecisionService(
            self.roles["decision"],
            self.schemas["decision"],
            DecisionCatalog.load(include_examples=True),
            DecisionSettings(catalog_schema=f"{self.schemas['decision']}_cat", scheduler_interval_s=0.2),
        )
        self.notification = NotificationService(
            self.roles["notification"], self.schemas["notification"], settings_for(1)
        )
        intake_deps = intake.state.intake.deps
        intake_route = application_route(self.prefix + APPLICATIONS_TOPIC)
        intake_relay = OutboxRelay(
            self.roles["intake"], EventStore(intake_deps.schema), self.producer, intake_route, SOURCE
        )
        self._spawn(intake_relay.run(self.stop))
        self._spawn(
            decision_worker(
                self.decision, self.producer, bootstrap, self.stop,
                prefix=self.prefix, instance_id=self.prefix + "d0", scheduler=False,
            )
        )  # fmt: skip
        self._spawn(
            notification_worker(
                self.notification, self.producer, bootstrap, self.stop,
                prefix=self.prefix, instance_id=self.prefix + "n0",
            )
        )  # fmt: skip
        complaints_store = EventStore(self.schemas["complaints"])
        route = complaints_route(self.prefix)
        complaints_relay = OutboxRelay(
            self.roles["complaints"], complaints_store, self.producer, route, "/qyzmet/complaints"
        )
        self._spawn(complaints_relay.run(self.stop))
        facts = facts_consumer(self.roles["complaints"], self.schemas["complaints"], self.producer)
        self._consume(facts, ("applications.v1", "decisions.v1"), "complaints-facts")
        progress = case_progress_consumer(
            self.roles["intake"], intake_deps.schema, intake_deps.service, self.producer
        )
        self._consume(progress, CONSUMED_TOPICS, "intake-progress")

    def _spawn(self, work: Awaitable[None]) -> None:
        self.tasks.append(asyncio.ensure_future(work))

    def _consume(self, consumer: Any, topics: tuple[str, ...], group: str) -> None:
        kafka = make_consumer(
            self.broker.bootstrap_servers, [self.prefix + t for t in topics],
            group_id=self.prefix + group, instance_id=self.prefix + group,
        )  # fmt: skip

        async def run() -> None:
            await kafka.start()
            try:
                await consume_until(kafka, consumer, self.stop)
            finally:
                await kafka.stop()

        self._spawn(run())

    async def close(self) -> None:
        self.stop.set()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.apps["intake"].state.intake.stop()
        await self.apps["complaints"].state.complaints.stop()
        await self.producer.stop()

    async def drop(self) -> None:
        async with self.pool.acquire() as conn:
            for schema in self.schemas.values():
                await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            await conn.execute(f"DROP SCHEMA IF EXISTS {self.schemas['decision']}_cat CASCADE")

    def client(self, service: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.apps[service])
        return httpx.AsyncClient(transport=transport, base_url=f"http://{service}")

    async def _count(self, schema: str, sql: str) -> int:
        async with self.pool.acquire() as conn:
            found: int = await conn.fetchval(sql.format(schema=schema))
        return found

    async def populate(self, applications: int) -> dict[str, int]:
        """Submit, decide (every third refused), complain about every third decision (half of the
        complaints upheld: the case reopens and is approved); a few at a time, as offices do."""
        clerk = _auth(Role.CLERK, DEPT, "clerk-1")

        async def submit(intake: httpx.AsyncClient) -> str:
            talon = await intake.post("/v1/applications", json=unemployed_registration(), headers=clerk)
            assert talon.status_code == 201, talon.text
            aid: str = talon.json()["application_id"]
            return aid

        async with self.client("intake") as intake:
            ids = await _at_most(PARALLEL, [lambda: submit(intake) for _ in range(applications)])
        cases = "SELECT count(*) FROM {schema}.cases"
        await eventually(lambda: self._count_is(self.schemas["decision"], cases, applications), "the cases")

        async def decide(i: int, aid: str) -> None:
            await self.decision.execute(aid, c.AssignExecutor(HEAD, "spec-1"))
            refused = c.DraftDecision(SPECIALIST, outcome="refused", grounds=("incomplete_documents",))
            await self.decision.execute(
                aid, refused if i % 3 == 0 else c.DraftDecision(SPECIALIST, outcome="approved")
            )

        await _at_most(PARALLEL, [partial(decide, i, aid) for i, aid in enumerate(ids)])
        complained = ids[::3]
        known = "SELECT count(*) FROM {schema}.known_applications WHERE decided_at IS NOT NULL"
        await eventually(
            lambda: self._count_is(self.schemas["complaints"], known, applications), "decisions known"
        )

        async def complain(complaints: httpx.AsyncClient, aid: str, outcome: str) -> None:
            filed = await complaints.post("/v1/complaints", json=complaint_body(aid), headers=clerk)
            assert filed.status_code == 201, filed.text
            talon = filed.json()
            reviewer = _auth(Role.REVIEWER, talon["reviewing_office"], "reviewer-1")
            answer = await complaints.post(
                f"/v1/complaints/{talon['complaint_id']}/resolution",
                json={"outcome": outcome, "reasoning": "reviewed"}, headers=reviewer,
            )  # fmt: skip
            assert answer.status_code == 200, answer.text

        upheld = complained[::2]
        async with self.client("complaints") as complaints:
            await _at_most(PARALLEL, [
                partial(complain, complaints, aid, "upheld" if aid in upheld else "rejected")
                for aid in complained
            ])  # fmt: skip
        reopened = "SELECT count(*) FROM {schema}.cases WHERE status = 'under_review'"
        await eventually(
            lambda: self._count_is(self.schemas["decision"], reopened, len(upheld)), "the reopenings"
        )
        approve = c.DraftDecision(SPECIALIST, outcome="approved")
        await _at_most(PARALLEL, [partial(self.decision.execute, aid, approve) for aid in upheld])
        return {"applications": applications, "complaints": len(complained), "upheld": len(upheld)}

    async def _count_is(self, schema: str, sql: str, expected: int) -> bool:
        return await self._count(schema, sql) >= expected

    async def settled(self, expected_steps: int) -> None:
        """Wait until intake's status view holds `expected_steps` case steps and nothing moves:
        every relay, consumer and delivery caught up (the stores stay still for three seconds)
        and intake's projector has projected every event."""
        history = "SELECT count(*) FROM {schema}.application_history"
        await eventually(lambda: self._count_is(self.schemas["intake"], history, expected_steps), "the steps")
        projector = ApplicationProjector(self.roles["intake"], self.schemas["intake"])
        last: tuple[int, ...] = ()
        while True:
            counts = [
                await self._count(s, "SELECT count(*) FROM {schema}.events") for s in self.schemas.values()
            ]
            now = (*counts, await self._count(self.schemas["intake"], history))
            if now == last and await projector.lag() == 0:
                return
            last = now
            await asyncio.sleep(3.0)
