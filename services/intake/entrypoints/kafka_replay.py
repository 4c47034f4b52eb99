"""The status view rebuilt from the topics (`qyzmet replay intake --source kafka`).

Intake's event store is refilled in a fresh schema the way the running service filled it:
`applications.v1` carries intake's own events (stored as intake stored them: id, data,
metadata, recording time); the case's steps, complaints and notifications on the other topics go
through the same translation and command as the live consumer (`kafka_case_progress`), merged
by publishing time. The live projector's code then projects the fresh store into the fresh rows.

What no topic carries cannot agree with the live view: when intake recorded a step (the row's
`updated_at`), and what follows the order the live consumer happened to receive the topics in
(records of different topics have no order between them): the stream versions (`last_version`,
the history's `version`) and the status each history line shows after its step (a notification
received just before or just after the reopening it follows). `TableSpec.not_from_kafka` names
them; everything else, the rows' statuses and facts included, must agree.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from services.intake.bootstrap import APPLICATIONS_TOPIC, build
from services.intake.entrypoints.kafka_case_progress import (
    CONSUMED_TOPICS,
    case_progress_handler,
    decision_source,
)
from shared.contracts.applications import APPLICATION_EVENTS
from shared.contracts.event import parse_ce_type
from shared.contracts.registry import UnknownEventType
from shared.contracts.topics import registry_of
from shared.messaging.envelope import Envelope, PoisonMessage
from shared.replay.kafka import TopicRecord, read_topics, refilled_store_job, store_envelopes, subject_stream
from shared.replay.spec import KafkaJob, ReplayJob

Replay = Callable[[asyncpg.Pool, ReplayJob], Awaitable[int]]


async def replay_from_topics(pool: asyncpg.Pool, job: KafkaJob, project: Replay) -> int:
    records = await read_topics(
        job.bootstrap_servers, (APPLICATIONS_TOPIC, *CONSUMED_TOPICS), job.topic_prefix
    )
    await _refill(pool, job.target, records)
    return await project(pool, await refilled_store_job(pool, job))


async def _refill(pool: asyncpg.Pool, target: str, records: list[TopicRecord]) -> None:
    own = {cls.event_name for cls in APPLICATION_EVENTS.classes()}
    steps = registry_of(CONSUMED_TOPICS)
    handle = case_progress_handler(build(pool, target).service, decision_source())
    pending: list[Envelope] = []
    seen: set[str] = set()
    async with pool.acquire() as conn:
        for record in records:
            envelope = record.envelope
            if record.topic == APPLICATIONS_TOPIC:
                if parse_ce_type(envelope.type)[0] in own:
                    pending.append(envelope)
                continue
            if envelope.id in seen:
                continue  # a record the topic repeats (the live consumer's inbox skips it)
            seen.add(envelope.id)
            try:
                event = steps.decode(envelope.type, envelope.data)
            except (UnknownEventType, ValueError):
                continue  # the live consumer skips or dead-letters it
            async with conn.transaction():
                if pending:
                    await store_envelopes(conn, target, pending, subject_stream)
                    pending = []
                try:
                    await handle(conn, envelope, event)
                except PoisonMessage:
                    pass  # dead-lettered by the live consumer too
        if pending:
            async with conn.transaction():
                await store_envelopes(conn, target, pending, subject_stream)
