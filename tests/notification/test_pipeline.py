"""The notification worker on a real broker: applications.v1 and decisions.v1 in, the
applicant's e-mail at the test's SMTP server, the ЦОН webhook receiver's signed DecisionMade,
the delivery states out on notifications.v1; a redelivered record and a restarted worker send
nothing twice."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from services.notification.bootstrap import APPLICANT_TOPICS, DECISION_SOURCE, run_worker
from services.notification.domain.commands import Subscribe
from services.notification.service import NotificationService
from services.notification.service_layer.dispatch import system_meta
from shared.contracts.event import DomainEvent
from shared.infra import KafkaHandle
from shared.messaging.envelope import Envelope, decode
from shared.messaging.kafka import make_producer
from shared.messaging.topics import TopicSpec, dlq_of, ensure_topics

from .conftest import Mailbox, settings_for
from .events import decided, inspection, submitted
from .receiver import Receiver, running
from .test_webhooks import HOOK_SECRET

TOPICS = (*APPLICANT_TOPICS, "notifications.v1")


async def send(
    producer: AIOKafkaProducer, topic: str, event: DomainEvent, source: str, ce_id: str | None = None,
    region: str | None = None,
) -> str:  # fmt: skip
    aid: str = event.application_id  # type: ignore[attr-defined]
    envelope = Envelope(
        id=ce_id or str(uuid.uuid4()), source=source, type=event.ce_type(),
        data=event.model_dump(mode="json"), subject=aid, region=region, correlation_id=f"corr-{aid}",
    )  # fmt: skip
    await producer.send_and_wait(
        topic, value=envelope.body(), key=aid.encode(), headers=envelope.to_headers()
    )
    return envelope.id


async def eventually(check: Callable[[], Awaitable[Any]], timeout_s: float = 30) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        found = await check()
        if found:
            return found
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def read_topic(bootstrap: str, topic: str, until: Callable[[list[Envelope]], bool]) -> list[Envelope]:
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


class Worker:
    def __init__(
        self, service: NotificationService, broker: KafkaHandle, producer: AIOKafkaProducer, prefix: str
    ):
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(
            run_worker(
                service,
                producer,
                broker.bootstrap_servers,
                self.stop,
                prefix=prefix,
                instance_id=prefix + "n0",
            )
        )

    async def close(self) -> None:
        self.stop.set()
        await self.task


async def test_decision_reaches_the_applicant_by_email_and_the_tson_by_webhook(
    make_service: Callable[..., NotificationService], smtp: tuple[Mailbox, int], broker: KafkaHandle,
    topic_prefix: str,
) -> None:  # fmt: skip
    mailbox, port = smtp
    bootstrap = broker.bootstrap_servers
    topics = [topic_prefix + t for t in TOPICS]
    ensure_topics(bootstrap, [TopicSpec(t, 2) for t in topics] + [TopicSpec(dlq_of(t), 1) for t in topics])
    service = make_service(settings=settings_for(port, dispatch_interval_s=0.05))
    producer = make_producer(bootstrap, idempotent=broker.kind != "tansu")
    await producer.start()
    async with running(Receiver(HOOK_SECRET)) as receiver:
        await service.execute(
            Subscribe(receiver.url("/astana"), HOOK_SECRET, ("astana",)), system_meta("admin")
        )
        worker = Worker(service, broker, producer, topic_prefix)
        try:
            app = submitted(language="kk")
            ce = await send(producer, topic_prefix + "applications.v1", app, "/qyzmet/intake")
            await send(producer, topic_prefix + "applications.v1", app, "/qyzmet/intake", ce)  # redelivered
            await send(
                producer, topic_prefix + "inspections.v1", inspection(app), "/office-systems/x"
            )  # a command
            await send(
                producer,
                topic_prefix + "decisions.v1",
                decided(app, "refused"),
                DECISION_SOURCE,
                region="astana",
            )
            await eventually(lambda: _mails(mailbox, 2))
            await eventually(lambda: _received(receiver, 1))
            subjects = sorted(m["Subject"] for m in mailbox.messages)
            assert subjects == sorted(
                [
                    f"Өтінішіңіз қабылданды: № {app.registration_number}",
                    f"Мемлекеттік қызмет көрсетуден бас тарту туралы шешім: № {app.registration_number}",
                ]
            )
            [hook] = receiver.received
            assert hook.signature_ok and hook.body["type"] == "kz.qyzmet.decision.made.v1"
            assert hook.body["data"]["application_id"] == app.application_id

            expected = {
                ("talon_issued", "email", "DELIVERED"),
                ("decision_made", "email", "DELIVERED"),
                ("decision_made", "pickup", "DELIVERED"),
            }

            def seen(found: list[Envelope]) -> set[tuple[str, str, str]]:
                return {
                    (e.data["kind"], e.data["channel"], e.data["state"])
                    for e in found
                    if e.data["application_id"] == app.application_id
                }

            states = await read_topic(
                bootstrap, topic_prefix + "notifications.v1", lambda f: seen(f) >= expected
            )
            mine = [e for e in states if e.data["application_id"] == app.application_id]
            assert all(e.region == "astana" for e in mine) and all(e.office == app.office_id for e in mine)
            assert "aigul" not in str([e.data for e in mine])
            await asyncio.sleep(0.5)
            assert len(mailbox.messages) == 2 and len(receiver.received) == 1  # nothing twice
        finally:
            await worker.close()
            await producer.stop()


async def test_a_restarted_worker_sends_nothing_twice(
    make_service: Callable[..., NotificationService], smtp: tuple[Mailbox, int], broker: KafkaHandle,
    topic_prefix: str,
) -> None:  # fmt: skip
    _, port = smtp
    bootstrap = broker.bootstrap_servers
    topics = [topic_prefix + t for t in TOPICS]
    ensure_topics(bootstrap, [TopicSpec(t, 2) for t in topics] + [TopicSpec(dlq_of(t), 1) for t in topics])
    settings = settings_for(port, dispatch_interval_s=0.05, dispatch_batch=2)
    producer = make_producer(bootstrap, idempotent=broker.kind != "tansu")
    await producer.start()
    async with running(Receiver(HOOK_SECRET, delay_s=0.15)) as receiver:
        first = make_service(settings=settings)
        await first.execute(Subscribe(receiver.url("/all"), HOOK_SECRET), system_meta("admin"))
        decisions = [decided(submitted()) for _ in range(8)]
        for event in decisions:
            await send(producer, topic_prefix + "decisions.v1", event, DECISION_SOURCE, region="astana")
        worker = Worker(first, broker, producer, topic_prefix)
        try:
            await eventually(lambda: _received(receiver, 1))
        finally:
            await worker.close()  # in the middle: a batch under way is finished, the rest waits
        sent_before = len(receiver.received)
        assert 1 <= sent_before < 8
        second = Worker(make_service(settings=settings), broker, producer, topic_prefix)
        try:
            await eventually(lambda: _received(receiver, 8))
            await asyncio.sleep(0.5)
        finally:
            await second.close()
            await producer.stop()
    ids = [r.body["id"] for r in receiver.received]
    assert len(ids) == 8 and len(set(ids)) == 8, "every decision exactly once"


async def _mails(mailbox: Mailbox, n: int) -> bool:
    return len(mailbox.messages) >= n


async def _received(receiver: Receiver, n: int) -> bool:
    return len(receiver.received) >= n
