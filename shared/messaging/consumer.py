"""Idempotent event consumer: decode, dead-letter poison, retry transient errors, handle once.

`EventConsumer.process` is the whole per-message policy and knows nothing of the stream
runtime; workers (faust agents or a plain aiokafka loop) feed it records and commit after.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from enum import Enum

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer

from shared.contracts.event import DomainEvent
from shared.contracts.registry import EventRegistry, InvalidEventData, UnknownEventType
from shared.messaging.dead_letter import dead_letter
from shared.messaging.envelope import Envelope, PoisonMessage, RetryLater, decode
from shared.messaging.inbox import Inbox, inbox_id
from shared.messaging.raw import RawMessage
from shared.messaging.transient import is_transient

log = structlog.get_logger(__name__)

Handler = Callable[[asyncpg.Connection, Envelope, DomainEvent], Awaitable[None]]
"""Applies one event's effects on the given connection, inside the inbox transaction."""

AfterCommit = Callable[[], Awaitable[None]]
_after_commit: ContextVar[list[AfterCommit] | None] = ContextVar("after_commit", default=None)


def after_commit(action: AfterCommit) -> None:
    """Run `action` once the handler's transaction has committed (never if it rolls back): for
    effects outside PostgreSQL, such as a direct reply on Kafka. A failing action is logged."""
    pending = _after_commit.get()
    if pending is None:
        raise RuntimeError("after_commit() is only available inside a consumer's handler")
    pending.append(action)


async def _run_after_commit(actions: list[AfterCommit], consumer: str) -> None:
    for action in actions:
        try:
            await action()
        except Exception as exc:
            log.warning("after-commit action failed", consumer=consumer, error=type(exc).__name__)


class Outcome(Enum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    DEAD_LETTERED = "dead_lettered"


@dataclass
class RetryPolicy:
    initial_delay: float = 0.1
    max_delay: float = 5.0
    retry_later_budget_s: float = 120.0
    """How long a `RetryLater` message is retried before it is dead-lettered."""


class EventConsumer:
    def __init__(
        self,
        name: str,
        pool: asyncpg.Pool,
        schema: str,
        registry: EventRegistry,
        handler: Handler,
        producer: AIOKafkaProducer,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.name = name
        self.pool = pool
        self.registry = registry
        self.handler = handler
        self.producer = producer
        self.inbox = Inbox(schema, name)
        self.retry = retry or RetryPolicy()
        self.counts: dict[Outcome, int] = dict.fromkeys(Outcome, 0)

    async def process(self, record: RawMessage) -> Outcome:
        return (await self.process_batch([record]))[0]

    async def process_batch(self, records: Sequence[RawMessage]) -> list[Outcome]:
        """Handle records in one transaction (one commit for all); if anything in it fails,
        roll it back and handle the records one by one with the single-record policy."""
        outcomes: dict[int, Outcome] = {}
        decoded: list[tuple[int, RawMessage, Envelope, DomainEvent]] = []
        for i, record in enumerate(records):
            try:
                envelope, event = self._decode(record)
            except PoisonMessage as exc:
                outcomes[i] = await self._dead_letter(record, exc.reason)
                continue
            decoded.append((i, record, envelope, event))
        if len(decoded) > 1:
            try:
                outcomes.update(await self._apply_all(decoded))
                decoded = []
            except Exception as exc:
                log.info(
                    "batch rolled back, handling one by one", consumer=self.name, error=type(exc).__name__
                )
        for i, record, envelope, event in decoded:
            outcomes[i] = await self._handle(record, envelope, event)
        result = [outcomes[i] for i in range(len(records))]
        for outcome in result:
            self.counts[outcome] += 1
        return result

    async def _apply_all(
        self, decoded: list[tuple[int, RawMessage, Envelope, DomainEvent]]
    ) -> dict[int, Outcome]:
        out: dict[int, Outcome] = {}
        actions: list[AfterCommit] = []
        token = _after_commit.set(actions)
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                for i, _, envelope, event in decoded:
                    if not await self.inbox.claim(conn, inbox_id(envelope.id, envelope.source)):
                        out[i] = Outcome.DUPLICATE
                        continue
                    await self.handler(conn, envelope, event)
                    out[i] = Outcome.HANDLED
        finally:
            _after_commit.reset(token)
        await _run_after_commit(actions, self.name)
        return out

    def _decode(self, record: RawMessage) -> tuple[Envelope, DomainEvent]:
        """Decoding is pure: whatever goes wrong in it (bad JSON, an unknown type, invalid data,
        absurd nesting, a failing upcaster) can never succeed on a retry, so it is poison."""
        try:
            envelope = decode(record.value, list(record.headers or ()))
            return envelope, self.registry.decode(envelope.type, envelope.data)
        except (PoisonMessage, UnknownEventType, InvalidEventData) as exc:
            raise PoisonMessage(str(exc)) from exc
        except Exception as exc:
            raise PoisonMessage(f"undecodable: {type(exc).__name__}") from exc

    async def _handle(self, record: RawMessage, envelope: Envelope, event: DomainEvent) -> Outcome:
        delay = self.retry.initial_delay
        waited = 0.0
        while True:
            try:
                return await self._apply(envelope, event)
            except PoisonMessage as exc:
                return await self._dead_letter(record, exc.reason)
            except RetryLater as exc:
                if waited >= self.retry.retry_later_budget_s:
                    return await self._dead_letter(record, f"gave up after {waited:.0f} s: {exc.reason}")
                log.info(
                    "not handleable yet, retrying", consumer=self.name, delay_s=delay, offset=record.offset
                )
                await asyncio.sleep(delay)
                waited += delay
                delay = min(delay * 2, self.retry.max_delay)
            except Exception as exc:
                if not is_transient(exc):
                    # The type only: an exception's text may quote personal data.
                    return await self._dead_letter(record, f"handler failed: {type(exc).__name__}")
                log.warning(
                    "transient error, retrying",
                    consumer=self.name,
                    error=type(exc).__name__,
                    delay_s=delay,
                    topic=record.topic,
                    offset=record.offset,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.retry.max_delay)

    async def _apply(self, envelope: Envelope, event: DomainEvent) -> Outcome:
        actions: list[AfterCommit] = []
        token = _after_commit.set(actions)
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                if not await self.inbox.claim(conn, inbox_id(envelope.id, envelope.source)):
                    return Outcome.DUPLICATE
                await self.handler(conn, envelope, event)
        finally:
            _after_commit.reset(token)
        await _run_after_commit(actions, self.name)
        return Outcome.HANDLED

    async def _dead_letter(self, record: RawMessage, reason: str) -> Outcome:
        log.warning(
            "dead-lettered",
            consumer=self.name,
            topic=record.topic,
            offset=record.offset,
            reason_kind=reason.split(":", 1)[0][:80],
        )
        await dead_letter(self.producer, record, reason, self.name)
        return Outcome.DEAD_LETTERED
