"""The offices' load: applications over HTTP (a clerk's talon) and over Kafka (`SubmitApplication`
on `intake.submissions.v1`), then for every application the head assigns and the specialist
drafts the decision over the decision API. Like real offices, clients retry on connection errors,
timeouts and 5xx answers with the same idempotency key; an office system re-sends a command whose
outcome it has not seen on `applications.v1` after a while."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from services.intake.domain.identity import make_iin
from shared.auth.roles import Role
from shared.auth.tokens import issue_token
from shared.contracts.applications import SubmitApplication
from shared.messaging.envelope import Envelope
from shared.messaging.kafka import make_producer
from tests.faults.system import SECRET, System
from tests.intake.conftest import DEPT, unemployed_registration

SUBMITTED = "kz.qyzmet.application.submitted.v1"
EXECUTOR = "spec-faults"
RESEND_AFTER_S = 45.0


def _auth(role: Role, subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, subject=subject, role=role, office=DEPT)}"}


CLERK = _auth(Role.CLERK, "clerk-faults")
HEAD = _auth(Role.HEAD, "head-faults")
SPECIALIST = _auth(Role.SPECIALIST, EXECUTOR)


@dataclass
class Ledger:
    """What the offices sent and got back."""

    http_keys: set[str] = field(default_factory=set)
    talons: dict[str, str] = field(default_factory=dict)  # idempotency key -> application id
    talon_codes: Counter[int] = field(default_factory=Counter)
    kafka_commands: dict[str, dict[str, Any]] = field(default_factory=dict)
    kafka_sent_at: dict[str, float] = field(default_factory=dict)
    kafka_outcomes: dict[str, str] = field(default_factory=dict)  # idempotency key -> application id
    kafka_resends: int = 0
    kafka_send_errors: int = 0
    decided: set[str] = field(default_factory=set)
    deciding: set[str] = field(default_factory=set)
    retries: Counter[str] = field(default_factory=Counter)  # why a request was retried
    server_errors: list[str] = field(default_factory=list)  # 500s: a bug even if a retry succeeds
    failures: list[str] = field(default_factory=list)  # gave up, or an answer no office expects


def application_body() -> dict[str, Any]:
    birth = date(1960, 1, 1) + timedelta(days=random.randrange(0, 365 * 40))
    body = unemployed_registration()
    body["applicant"] = {
        **body["applicant"],
        "iin": make_iin(birth, random.randrange(1, 9000)),
        "full_name": "Fault Suite Applicant",
    }
    return body


class Offices:
    def __init__(self, system: System, ledger: Ledger, give_up_at: float) -> None:
        self.system = system
        self.ledger = ledger
        self.give_up_at = give_up_at
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(15.0, connect=3.0, pool=60.0),
            limits=httpx.Limits(max_connections=400, max_keepalive_connections=100),
        )
        self.tasks: set[asyncio.Task[None]] = set()
        self.producer: AIOKafkaProducer | None = None
        self.producer_lock = asyncio.Lock()

    def spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.client.aclose()
        if self.producer is not None:
            await self.producer.stop()

    # ------------------------------------------------------------------ HTTP with retries

    async def call(self, method: str, url: str, **kwargs: Any) -> httpx.Response | None:
        delay = 0.5
        while time.monotonic() < self.give_up_at:
            try:
                answer = await self.client.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                self.ledger.retries[type(exc).__name__] += 1
            else:
                if answer.status_code < 500:
                    return answer
                self.ledger.retries[f"HTTP {answer.status_code}"] += 1
                if answer.status_code != 503:
                    where = url.split("/v1/")[-1]
                    self.ledger.server_errors.append(f"{method} {where}: {answer.status_code}")
                after = answer.headers.get("Retry-After", "")
                if after.isdigit():
                    delay = max(delay, min(float(after), 5.0))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
        self.ledger.failures.append(f"gave up: {method} {url.split('/v1/')[-1]}")
        return None

    async def submit_http(self) -> None:
        body = application_body()
        key = body["idempotency_key"]
        self.ledger.http_keys.add(key)
        answer = await self.call(
            "POST", f"{self.system.base('intake')}/v1/applications", json=body, headers=CLERK
        )
        if answer is None:
            return
        if answer.status_code not in (200, 201):
            self.ledger.failures.append(f"submit answered {answer.status_code}: {answer.text[:200]}")
            return
        self.ledger.talon_codes[answer.status_code] += 1
        aid = answer.json()["application_id"]
        self.ledger.talons[key] = aid
        await self.decide(aid)

    # ------------------------------------------------------------------ Kafka with re-sends

    async def _send(self, command: dict[str, Any]) -> None:
        envelope = Envelope(
            id=str(uuid.uuid4()),
            source="/office-systems/faults",
            type=SubmitApplication.ce_type(),
            data=command,
            actor="clerk-faults",
            office=DEPT,
        )
        topic = self.system.env.get("TOPIC_PREFIX", "") + "intake.submissions.v1"
        while time.monotonic() < self.give_up_at:
            async with self.producer_lock:
                if self.producer is None:
                    try:
                        producer = make_producer(self.system.bootstrap, client_id="faults-office")
                        await producer.start()
                        self.producer = producer
                    except Exception:
                        self.ledger.kafka_send_errors += 1
                        await asyncio.sleep(1)
                        continue
                producer = self.producer
            try:
                await asyncio.wait_for(
                    producer.send_and_wait(
                        topic, value=envelope.body(), key=command["idempotency_key"].encode(),
                        headers=envelope.to_headers(),
                    ),
                    20,
                )  # fmt: skip
                return
            except Exception:
                self.ledger.kafka_send_errors += 1
                async with self.producer_lock:
                    if self.producer is producer:
                        self.producer = None
                        self.spawn(producer.stop())
                await asyncio.sleep(1)
        self.ledger.failures.append("gave up sending a Kafka command")

    async def submit_kafka(self) -> None:
        command = application_body()
        key = command["idempotency_key"]
        self.ledger.kafka_commands[key] = command
        self.ledger.kafka_sent_at[key] = time.monotonic()
        await self._send(command)

    async def resend_unanswered(self) -> None:
        """Re-send commands whose outcome has not shown on applications.v1 for a while."""
        now = time.monotonic()
        for key, sent in list(self.ledger.kafka_sent_at.items()):
            if key not in self.ledger.kafka_outcomes and now - sent > RESEND_AFTER_S:
                self.ledger.kafka_sent_at[key] = now
                self.ledger.kafka_resends += 1
                self.spawn(self._send(self.ledger.kafka_commands[key]))

    async def watch_outcomes(self, stop: asyncio.Event) -> None:
        """Follow applications.v1 (as office systems do) to learn the Kafka applications' ids."""
        topic = self.system.env.get("TOPIC_PREFIX", "") + "applications.v1"
        while not stop.is_set():
            consumer = AIOKafkaConsumer(
                topic, bootstrap_servers=self.system.bootstrap, group_id=None,
                auto_offset_reset="earliest", request_timeout_ms=10000,
            )  # fmt: skip
            try:
                await consumer.start()
                while not stop.is_set():
                    batches = await consumer.getmany(timeout_ms=500)
                    for records in batches.values():
                        for record in records:
                            self._outcome(record.value, dict(record.headers))
                    await self.resend_unanswered()
            except Exception:
                await asyncio.sleep(1)
            finally:
                await consumer.stop()

    def _outcome(self, value: bytes | None, headers: dict[str, bytes]) -> None:
        if value is None or headers.get("ce_type") != SUBMITTED.encode():
            return
        data = json.loads(value)
        key, aid = data.get("idempotency_key"), data.get("application_id")
        if key in self.ledger.kafka_commands and key not in self.ledger.kafka_outcomes:
            self.ledger.kafka_outcomes[key] = aid
            self.spawn(self.decide(aid))

    # ------------------------------------------------------------------ deciding

    async def _status(self, aid: str) -> dict[str, Any] | None:
        """The case's status (the clerk who received it reads it, unaudited), once it exists."""
        url = f"{self.system.base('decision')}/v1/cases/{aid}"
        while time.monotonic() < self.give_up_at:
            answer = await self.call("GET", url, headers=CLERK)
            if answer is None:
                return None
            if answer.status_code == 200:
                return answer.json()  # type: ignore[no-any-return]
            if answer.status_code != 404:
                self.ledger.failures.append(f"case {aid} answered {answer.status_code}")
                return None
            await asyncio.sleep(2.0)
        return None

    async def decide(self, aid: str) -> None:
        """The head assigns, the specialist drafts (unemployed registration: decided at once)."""
        if aid in self.ledger.deciding:
            return
        self.ledger.deciding.add(aid)
        base = f"{self.system.base('decision')}/v1/cases/{aid}"
        if await self._status(aid) is None:
            return
        for _ in range(5):
            assigned = await self.call("POST", f"{base}/assign", json={"executor": EXECUTOR}, headers=HEAD)
            if assigned is None or not self._expected(aid, assigned):
                return
            drafted = await self.call(
                "POST", f"{base}/draft", json={"outcome": "approved"}, headers=SPECIALIST
            )
            if drafted is None or not self._expected(aid, drafted):
                return
            if drafted.status_code == 200:
                self.ledger.decided.add(aid)
                return
            status = await self._status(aid)  # 409: decided already (a retried request), or not yet
            if status is None:
                return
            if status["status"] == "decided":
                self.ledger.decided.add(aid)
                return
        self.ledger.failures.append(f"case {aid} not decided after 5 rounds")

    def _expected(self, aid: str, answer: httpx.Response) -> bool:
        if answer.status_code in (200, 409):
            return True
        self.ledger.failures.append(f"case {aid}: {answer.status_code} {answer.text[:200]}")
        return False
