"""Wiring by hand: the decision service, its consumer, relay route and timer scheduler."""

from __future__ import annotations

import asyncio
import gc

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from services.decision.adapters.catalog import DecisionCatalog
from services.decision.entrypoints.kafka_handlers import consumer_handler
from services.decision.service import DecisionService
from services.decision.settings import DecisionSettings
from shared.contracts.registry import EventRegistry
from shared.contracts.routes import Route, route_for
from shared.contracts.topics import registry_of
from shared.eventstore import EventStore
from shared.messaging.consumer import EventConsumer
from shared.messaging.kafka import make_consumer, producer_factory
from shared.messaging.relay import OutboxRelay
from shared.messaging.worker import consume_until
from shared.runtime.heap import freeze_startup_heap

log = structlog.get_logger(__name__)

SCHEMA = "decision"
SERVICE = "decision"
MIGRATIONS = ("services.decision.adapters.sql",)
APPLICATIONS_TOPIC = "applications.v1"
INSPECTIONS_TOPIC = "inspections.v1"
DECISIONS_TOPIC = "decisions.v1"
COMPLAINTS_TOPIC = "complaints.v1"
CONSUMED_TOPICS = (APPLICATIONS_TOPIC, INSPECTIONS_TOPIC, COMPLAINTS_TOPIC)
"""Applications open and close cases; office systems send inspection acts; an upheld complaint
reopens a decided case."""
POLL_RECORDS = 3000
"""Records a poll may take (issue 14). A poll's partitions are handled side by side, each on its
own connection, one transaction per 100 records: while PostgreSQL writes one partition's batch,
the worker plans another's. aiokafka fills a poll partition by partition, so at 500 a backlog's
poll held one or two partitions and the worker mostly waited on each batch's statements and
commit in turn; at 3000 a poll spans several (a backlog of 6,000 automated applications on six
partitions was decided 1.4-1.7x as fast). Without a backlog a poll holds what has arrived."""
YOUNG_COLLECTION_EVERY = 20_000
"""The collector's young-generation threshold while the worker runs (Python's default: 700). A
poll's records, events and plans (~30 objects a record) stay alive until its batches commit, so
every young collection walked thousands of them and moved them on to be walked again by the
older generations: ~490 collections for 6,000 decisions, the consumer's process CPU 184 us a
decision; at 20,000, 3 collections and 148-153 us. The work leaves next to no cyclic garbage (it
is freed by reference counting), so collecting less often holds back little memory."""


def route(prefix: str = "") -> Route:
    """The relay route of the decision service, from the contract table (inspection events to
    `inspections.v1`, other public case events to `decisions.v1`, internal ones nowhere)."""
    return route_for(SERVICE, prefix)


def consumed_registry() -> EventRegistry:
    """Every event of the topics the worker consumes, as the contract table lists them."""
    return registry_of(CONSUMED_TOPICS)


def build_service(
    pool: asyncpg.Pool, schema: str = SCHEMA, settings: DecisionSettings | None = None
) -> DecisionService:
    settings = settings or DecisionSettings()
    catalog = DecisionCatalog.load(include_examples=settings.use_example_parameters)
    return DecisionService(pool, schema, catalog, settings)


async def run_scheduler(service: DecisionService, stop: asyncio.Event, *, worker: str = "scheduler") -> None:
    """Fire due timers until `stop`; safe to run in several processes at once (SKIP LOCKED)."""
    await service.scheduler.run(stop, worker=worker)


async def run_worker(
    service: DecisionService,
    producer: AIOKafkaProducer,
    bootstrap_servers: str,
    stop: asyncio.Event,
    *,
    prefix: str = "",
    instance_id: str = "decision-worker-0",
    scheduler: bool = True,
    idempotent: bool = True,
    assigned: asyncio.Event | None = None,
) -> None:
    """Consume applications and inspection commands, relay case events, fire timers (the relay
    starts a fresh producer, idempotent as `idempotent` says, after a fatal producer error).
    `assigned` is set once the consumer group gave this worker its partitions."""
    source = service.settings.source
    consumer = EventConsumer(
        "decision-applications",
        service.pool,
        service.schema,
        consumed_registry(),
        consumer_handler(service, source),
        producer,
        batch=service.open_cases,
    )
    kafka = make_consumer(
        bootstrap_servers,
        [prefix + topic for topic in CONSUMED_TOPICS],
        group_id=prefix + "decision-worker",
        instance_id=instance_id,
    )
    fresh = producer_factory(bootstrap_servers, idempotent=idempotent, client_id="decision-relay")
    relay = OutboxRelay(
        service.pool,
        EventStore(service.schema),
        producer,
        route(prefix),
        source=source,
        producer_factory=fresh,
    )
    await kafka.start()
    freeze_startup_heap()  # the catalog and clients are loaded: out of the collector's way
    _collect_young_less_often(+1)
    tasks = [
        asyncio.create_task(
            consume_until(kafka, consumer, stop, max_records=POLL_RECORDS), name="decision-consumer"
        ),
        asyncio.create_task(relay.run(stop), name="decision-relay"),
    ]
    if scheduler:
        tasks.append(asyncio.create_task(run_scheduler(service, stop, worker=instance_id), name="scheduler"))
    if assigned is not None:
        tasks.append(asyncio.create_task(_when_assigned(kafka, assigned, stop), name="assigned"))
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            if task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        stop.set()
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await kafka.stop()
        _collect_young_less_often(-1)


_thresholds_before: list[tuple[int, int, int]] = []
"""The collector's thresholds before the first of the workers now running in this process."""


def _collect_young_less_often(change: int) -> None:
    """`YOUNG_COLLECTION_EVERY` while any worker runs (+1 as one starts, -1 as it ends); the
    thresholds as they were once the last one ended (tests run several workers in one process)."""
    if change > 0:
        _thresholds_before.append(gc.get_threshold())
        if len(_thresholds_before) == 1:
            gc.set_threshold(YOUNG_COLLECTION_EVERY, *gc.get_threshold()[1:])
    elif _thresholds_before:
        first = _thresholds_before[0]
        _thresholds_before.pop()
        if not _thresholds_before:
            gc.set_threshold(*first)


async def _when_assigned(kafka: AIOKafkaConsumer, assigned: asyncio.Event, stop: asyncio.Event) -> None:
    while not kafka.assignment() and not stop.is_set():
        await asyncio.sleep(0.005)
    assigned.set()
