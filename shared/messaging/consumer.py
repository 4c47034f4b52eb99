"""Idempotent event consumer: decode, dead-letter poison, retry transient errors, handle once.

`EventConsumer.process` is the whole per-message policy and knows nothing of the stream
runtime; workers (faust agents or a plain aiokafka loop) feed it records and commit after.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from enum import Enum

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential_jitter

from shared.contracts.event import DomainEvent
from shared.contracts.registry import EventRegistry, InvalidEventData, UnknownEventType
from shared.messaging.dead_letter import dead_letter
from shared.messaging.envelope import Envelope, PoisonMessage, RetryLater, decode
from shared.messaging.inbox import Inbox, inbox_id
from shared.messaging.raw import RawMessage
from shared.service_layer.retry import is_retryable
from shared.service_layer.unit_of_work import AfterCommit, PgUnitOfWork

log = structlog.get_logger(__name__)

Handler = Callable[[asyncpg.Connection, Envelope, DomainEvent], Awaitable[None]]
"""Applies one event's effects on the given connection, inside the inbox transaction."""

_open_unit: ContextVar[PgUnitOfWork | None] = ContextVar("consumer_unit", default=None)


def after_commit(action: AfterCommit) -> None:
    """Run `action` once the handler's transaction has committed (never if it rolls back): for
    effects outside PostgreSQL, such as a direct reply on Kafka. A failing action is logged."""
    unit = _open_unit.get()
    if unit is None:
        raise RuntimeError("after_commit() is only available inside a consumer's handler")
    unit.after_commit(action)


class Outcome(Enum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    DEAD_LETTERED = "dead_lettered"


@dataclass
class Redelivery:
    """How a message whose handling failed for a passing reason is tried again (in a new
    transaction each time): transient errors (`shared.service_layer.retry`) for as long as they
    last, a `RetryLater` until its budget is spent; then it is dead-lettered with the reason."""

    initial_delay: float = 0.1
    max_delay: float = 5.0
    retry_later_budget_s: float = 120.0
    """How long a `RetryLater` message is retried before it is dead-lettered."""

    def retrying(self, started: float, **log_context: object) -> AsyncRetrying:
        def budget_spent(state: RetryCallState) -> bool:
            error = state.outcome.exception() if state.outcome is not None else None
            return isinstance(error, RetryLater) and time.monotonic() - started >= self.retry_later_budget_s

        return AsyncRetrying(
            retry=retry_if_exception(lambda e: isinstance(e, RetryLater) or is_retryable(e)),
            wait=wait_exponential_jitter(initial=self.initial_delay, max=self.max_delay),
            stop=budget_spent,
            before_sleep=lambda state: _log_retry(state, log_context),
            reraise=True,
        )


def _log_retry(state: RetryCallState, context: dict[str, object]) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    if isinstance(error, RetryLater):
        log.info("not handleable yet, retrying", attempt=state.attempt_number, **context)
    else:
        log.warning(
            "transient error, retrying", attempt=state.attempt_number, error=type(error).__name__, **context
        )


class EventConsumer:
    def __init__(
        self,
        name: str,
        pool: asyncpg.Pool,
        schema: str,
        registry: EventRegistry,
        handler: Handler,
        producer: AIOKafkaProducer,
        retry: Redelivery | None = None,
    ) -> None:
        self.name = name
        self.pool = pool
        self.schema = schema
        self.registry = registry
        self.handler = handler
        self.producer = producer
        self.inbox = Inbox(schema, name)
        self.retry = retry or Redelivery()
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
        async with self._unit() as unit:
            for i, _, envelope, event in decoded:
                out[i] = await self._claim_and_handle(unit, envelope, event)
        return out

    @contextlib.asynccontextmanager
    async def _unit(self) -> AsyncIterator[PgUnitOfWork]:
        """One inbox transaction (the service layer's unit of work): its after-commit actions,
        registered by handlers through `after_commit`, run once it has committed."""
        unit = PgUnitOfWork(self.pool, self.schema, repeatable=True)  # the inbox makes it so
        async with unit:
            token = _open_unit.set(unit)
            try:
                yield unit
            finally:
                _open_unit.reset(token)

    async def _claim_and_handle(self, unit: PgUnitOfWork, envelope: Envelope, event: DomainEvent) -> Outcome:
        if not await self.inbox.claim(unit.conn, inbox_id(envelope.id, envelope.source)):
            return Outcome.DUPLICATE
        await self.handler(unit.conn, envelope, event)
        return Outcome.HANDLED

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
        started = time.monotonic()
        try:
            retrying = self.retry.retrying(
                started, consumer=self.name, topic=record.topic, offset=record.offset
            )
            async for attempt in retrying:
                with attempt:
                    return await self._apply(envelope, event)
        except PoisonMessage as exc:
            return await self._dead_letter(record, exc.reason)
        except RetryLater as exc:
            waited = time.monotonic() - started
            return await self._dead_letter(record, f"gave up after {waited:.0f} s: {exc.reason}")
        except Exception as exc:
            # The type only: an exception's text may quote personal data.
            return await self._dead_letter(record, f"handler failed: {type(exc).__name__}")
        raise AssertionError("unreachable: the retrying loop returns or raises")

    async def _apply(self, envelope: Envelope, event: DomainEvent) -> Outcome:
        async with self._unit() as unit:
            return await self._claim_and_handle(unit, envelope, event)

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
