"""Faust as a thin shell: agents decode nothing themselves; they hand raw records to
`EventConsumer.process` (plain async code) and faust commits the offsets after.

No durable state lives in faust (`store="memory://"`); topics are created by the platform,
never declared by faust; every worker has a stable static-membership id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import faust

from shared.messaging.consumer import EventConsumer
from shared.messaging.raw import RawRecord


@dataclass(frozen=True)
class AgentSpec:
    name: str
    topics: Sequence[str]
    consumer: Callable[[], Awaitable[EventConsumer]]
    """Awaited inside the faust loop; returns once the service context is open."""
    batch_size: int = 100
    """Records handled in one transaction (faust `take_events`)."""
    batch_within_s: float = 0.05


def build_worker_app(
    app_id: str,
    bootstrap_servers: str,
    instance_id: str,
    *,
    session_timeout_s: float = 6.0,
    heartbeat_interval_s: float = 2.0,
) -> faust.App:
    return faust.App(
        app_id,
        broker=[f"kafka://{server}" for server in bootstrap_servers.split(",")],
        value_serializer="raw",
        key_serializer="raw",
        store="memory://",
        topic_allow_declare=False,
        topic_disable_leader=True,
        web_enabled=False,
        broker_session_timeout=session_timeout_s,
        broker_heartbeat_interval=heartbeat_interval_s,
        consumer_group_instance_id=instance_id,
        consumer_auto_offset_reset="earliest",
        table_standby_replicas=0,
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
        async for events in stream.take_events(spec.batch_size, within=spec.batch_within_s):
            await consumer.process_batch([_raw(event.message) for event in events])

    agent.__name__ = spec.name
    app.agent(topic, name=spec.name)(agent)


def attach_background(app: faust.App, name: str, run: Callable[[], Awaitable[None]]) -> None:
    """Run a long-lived coroutine (outbox relay, timer scheduler) inside the worker."""

    async def task() -> None:
        await run()

    task.__name__ = name
    app.task(task)
