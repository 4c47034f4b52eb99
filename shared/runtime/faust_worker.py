"""Faust as a thin shell: agents decode nothing themselves; they hand raw records to
`EventConsumer.process` (plain async code) and faust commits the offsets after.

No durable state lives in faust (`store="memory://"`); topics are created by the platform,
never declared by faust; every worker has a stable static-membership id.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import faust
import structlog
from aiokafka import TopicPartition

from shared.logging import configure_logging
from shared.messaging.consumer import Deferrals, EventConsumer, Outcome
from shared.messaging.lag import LagMonitor
from shared.messaging.raw import RawMessage, RawRecord
from shared.messaging.topics import contract_topics, ensure_topics
from shared.runtime.context import ServiceContext, require_infrastructure, service_context
from shared.runtime.faust_batches import take_ready
from shared.runtime.faust_shell import quiet_worker_shell
from shared.runtime.held_partitions import HeldPartitions, Item, Process, deferring, handle_items, retry_held
from shared.runtime.liveness import GroupLag, ProgressWatch, watch_liveness
from shared.runtime.metrics_listener import start_metrics_listener
from shared.settings import PlatformSettings

P = TypeVar("P")
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class AgentSpec:
    name: str
    topics: Sequence[str]
    consumer: Callable[[], Awaitable[EventConsumer]]
    """Awaited inside the faust loop; returns once the service context is open."""
    batch_size: int = 100
    """Records handled in one transaction (faust `take_events`)."""
    batch_within_s: float = 0.05
    watch: ProgressWatch | None = None
    """Touched on every batch and every retry (the liveness watchdog reads it)."""


def build_worker_app(
    app_id: str,
    bootstrap_servers: str,
    instance_id: str,
    *,
    session_timeout_s: float = 6.0,
    heartbeat_interval_s: float = 2.0,
    data_dir: Path | None = None,
) -> faust.App:
    if data_dir is not None:
        (data_dir / "faust").mkdir(parents=True, exist_ok=True)  # faust makes only the last level
    return faust.App(
        app_id,
        broker=[f"kafka://{server}" for server in bootstrap_servers.split(",")],
        value_serializer="raw",
        key_serializer="raw",
        store="memory://",
        # faust writes a small data directory per app: in the system's data dir, not the cwd.
        datadir=str(data_dir / "faust" / app_id) if data_dir else f"{app_id}-data",
        topic_allow_declare=False,
        topic_disable_leader=True,
        web_enabled=False,
        broker_session_timeout=session_timeout_s,
        broker_heartbeat_interval=heartbeat_interval_s,
        consumer_group_instance_id=instance_id,
        broker_max_poll_interval=1800.0,  # see make_consumer: slow-but-healthy batches (RetryLater)
        consumer_auto_offset_reset="earliest",
        table_standby_replicas=0,
        # Never wait for unacknowledged events before a rebalance or shutdown: records held by a
        # `RetryLater` stay unacknowledged on purpose (shared.runtime.held_partitions), and a batch
        # retrying through an outage would stall the rebalance with it. Uncommitted records are read
        # again by the partition's next owner and the inbox absorbs what was already handled.
        stream_wait_empty=False,
    )


def _raw(message: Any) -> RawRecord:
    headers = message.headers or []
    return RawRecord(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value,
        headers=list(headers.items()) if isinstance(headers, dict) else list(headers),
    )


def attach_agent(app: faust.App, spec: AgentSpec) -> None:
    topic = app.topic(*spec.topics, value_type=bytes, key_type=bytes)

    async def agent(stream: Any) -> None:
        consumer = await spec.consumer()
        retry = consumer.retry
        held = HeldPartitions(app.consumer, lambda event: event.ack(), retry.initial_delay, retry.max_delay)
        process = _until_done(spec, deferring(consumer, Deferrals()))
        lock = asyncio.Lock()
        stop = asyncio.Event()
        retrier = asyncio.create_task(retry_held(held, process, lock, stop))
        try:
            async for events in take_ready(stream, spec.batch_size):  # no timer while idle
                items = [Item(event, _raw(event.message)) for event in events]
                async with lock:
                    await handle_items(held.absorb(items), process, held)
        finally:
            stop.set()
            await retrier

    agent.__name__ = spec.name
    app.agent(topic, name=spec.name)(agent)


def _until_done(spec: AgentSpec, process: Process) -> Process:
    """Never drop a batch: retry it until handled (the inbox makes retries safe)."""

    async def run(records: Sequence[RawMessage]) -> list[Outcome]:
        backoff = 0.5
        while True:
            if spec.watch is not None:
                spec.watch.touch()
            try:
                return await process(records)
            except Exception as exc:
                log.warning("agent: batch failed, retrying", agent=spec.name, error=type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)

    return run


def attach_background(app: faust.App, name: str, run: Callable[[], Awaitable[None]]) -> None:
    """Run a long-lived coroutine (outbox relay, timer scheduler) inside the worker."""

    async def task() -> None:
        await run()

    task.__name__ = name
    app.task(task)


def _exit_for_restart(reason: str) -> None:
    """A stalled faust consumer may not shut down either: leave at once; the supervisor restarts."""
    print(f"qyzmet worker: stalled ({reason}); exiting for a restart", file=sys.stderr, flush=True)
    os._exit(75)  # EX_TEMPFAIL


def attach_liveness(
    app: faust.App,
    monitor: LagMonitor,
    topics: Sequence[str],
    watch: ProgressWatch,
    stall_s: float,
    stop: asyncio.Event,
) -> None:
    """Exit the worker when its agents stall with records waiting (see shared.runtime.liveness)."""

    def assignment() -> list[TopicPartition]:
        return [TopicPartition(tp.topic, tp.partition) for tp in app.consumer.assignment()]

    async def run() -> None:
        await watch_liveness(
            watch,
            assignment,
            GroupLag(monitor, topics),
            _exit_for_restart,
            stall_s=stall_s,
            interval_s=min(10.0, stall_s / 3),
            stop=stop,
        )

    attach_background(app, "liveness", run)


class LazyContext(Generic[P]):
    """Opens a service's context once, inside faust's event loop, and builds the worker's parts
    from it; `close()` (wired to faust's shutdown) stops background loops and closes it."""

    def __init__(
        self,
        service: str,
        schema: str,
        migrations: tuple[str, ...],
        settings: PlatformSettings,
        build: Callable[[ServiceContext], P],
    ) -> None:
        self._open = (service, schema, migrations, settings)
        self._build = build
        self._stack = contextlib.AsyncExitStack()
        self._parts: P | None = None
        self.context: ServiceContext | None = None
        self._lock = asyncio.Lock()
        self.stop = asyncio.Event()

    async def parts(self) -> P:
        async with self._lock:
            if self._parts is None:
                ctx = await self._stack.enter_async_context(service_context(*self._open))
                self.context = ctx
                self._parts = self._build(ctx)
            return self._parts

    async def close(self) -> None:
        self.stop.set()
        await self._stack.aclose()


async def _run_audit_relay(lazy: LazyContext[P]) -> None:
    """Every worker publishes its schema's audit records and chain anchors (`audit.v1`)."""
    await lazy.parts()
    assert lazy.context is not None
    await lazy.context.audit_relay().run(lazy.stop)


@dataclass(frozen=True)
class ServiceWorker(Generic[P]):
    """What a service's worker process runs: agents over topics, and background loops."""

    service: str
    schema: str
    migrations: tuple[str, ...]
    build: Callable[[ServiceContext], P]
    agents: Sequence[tuple[str, Sequence[str], Callable[[P], EventConsumer]]]
    """(agent name, topic names without prefix, the part's consumer)."""
    backgrounds: Sequence[tuple[str, Callable[[P, asyncio.Event], Awaitable[None]]]] = ()


def run_faust_worker(worker: ServiceWorker[P], settings: PlatformSettings) -> None:
    """Create the topics, then run the worker under faust until it is stopped."""
    _, bootstrap = require_infrastructure(settings, worker.service)
    ensure_topics(bootstrap, contract_topics(settings.topic_partitions, settings.topic_prefix))
    lazy = LazyContext(worker.service, worker.schema, worker.migrations, settings, worker.build)
    app = build_worker_app(
        f"{settings.topic_prefix}qyzmet-{worker.service}-worker",
        bootstrap,
        f"{worker.service}-worker-{settings.instance_ordinal}",
        data_dir=settings.data_dir.resolve(),
    )
    watch = ProgressWatch()
    consumed: list[str] = []
    for name, topics, pick in worker.agents:

        async def consumer(pick: Callable[[P], EventConsumer] = pick) -> EventConsumer:
            return pick(await lazy.parts())

        names = [settings.topic_prefix + t for t in topics]
        consumed += names
        attach_agent(app, AgentSpec(name, names, consumer, watch=watch))
    if worker.agents:
        lag = LagMonitor(bootstrap, app.conf.id)
        attach_background(app, "consumer_lag", lambda: lag.run(lazy.stop))
        if settings.worker_stall_s > 0:
            attach_liveness(app, lag, consumed, watch, settings.worker_stall_s, lazy.stop)
    attach_background(app, "audit_relay", lambda: _run_audit_relay(lazy))
    for name, loop in worker.backgrounds:

        async def background(loop: Callable[[P, asyncio.Event], Awaitable[None]] = loop) -> None:
            await loop(await lazy.parts(), lazy.stop)

        attach_background(app, name, background)

    async def _close(sender: Any, *_: Any, signal: Any, **__: Any) -> None:  # after the consumer stopped
        await lazy.close()

    app.on_before_shutdown.connect(_close)  # type: ignore[arg-type]  # faust types it as sync or awaitable

    # The process configured logging already (one JSON format, see shared.logging): faust keeps it.
    configure_logging(settings.log_level)
    start_metrics_listener(f"{worker.service}-worker")
    # no banner or terminal spinner on stdout; every line goes through the one log format
    quiet_worker_shell(app, settings.log_level.lower()).execute_from_commandline()
