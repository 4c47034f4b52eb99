"""Idempotent event consumer: decode, dead-letter poison, retry transient errors, handle once.

`EventConsumer.process` is the whole per-message policy and knows nothing of the stream
runtime; workers (faust agents or a plain aiokafka loop) feed it records and commit after.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from enum import Enum

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential_jitter

from shared.contracts.event import DomainEvent
from shared.contracts.registry import EventRegistry, InvalidEventData, UnknownEventType
from shared.messaging.batch_handling import BatchHandler, batchable
from shared.messaging.dead_letter import dead_letter
from shared.messaging.envelope import Envelope, PoisonMessage, RetryLater, decode
from shared.messaging.inbox import Inbox, inbox_id
from shared.messaging.raw import RawMessage
from shared.metrics import CONSUMER_BATCH_SECONDS, CONSUMER_RECORDS, DEAD_LETTERED
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
    IGNORED = "ignored"
    """An event this consumer does not handle (`EventConsumer(handles=...)`): acknowledged with
    no transaction, no inbox row and no decoding of its data (ignoring has no effect to repeat)."""
    DEFERRED = "deferred"
    """Not handled yet (`RetryLater`, or after such a record of the same partition): the worker
    pauses the partition and delivers the record again after a back-off (`Deferrals`)."""


class Deferrals:
    """The `RetryLater` records a worker put aside instead of waiting for them in place: when each
    was first deferred, so that it is dead-lettered once the retry budget is spent."""

    def __init__(self) -> None:
        self._since: dict[tuple[str, int, int], float] = {}

    def since(self, record: RawMessage) -> float:
        return self._since.setdefault((record.topic, record.partition, record.offset), time.monotonic())

    def forget(self, record: RawMessage) -> None:
        self._since.pop((record.topic, record.partition, record.offset), None)


@dataclass
class Redelivery:
    """How a message whose handling failed for a passing reason is tried again (in a new
    transaction each time): transient errors (`shared.service_layer.retry`) for as long as they
    last, a `RetryLater` until its budget is spent; then it is dead-lettered with the reason."""

    initial_delay: float = 0.1
    max_delay: float = 5.0
    retry_later_budget_s: float = 120.0
    """How long a `RetryLater` message is retried before it is dead-lettered."""

    def retrying(self, started: float, *, retry_later: bool = True, **log_context: object) -> AsyncRetrying:
        """`retry_later=False`: only transient errors are retried in place; a `RetryLater` goes
        to the caller (a worker that defers the record and pauses its partition)."""

        def budget_spent(state: RetryCallState) -> bool:
            error = state.outcome.exception() if state.outcome is not None else None
            return isinstance(error, RetryLater) and time.monotonic() - started >= self.retry_later_budget_s

        return AsyncRetrying(
            retry=retry_if_exception(
                lambda e: (retry_later and isinstance(e, RetryLater)) or is_retryable(e)
            ),
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
        batch: BatchHandler | None = None,
        *,
        handles: Collection[type[DomainEvent]] | None = None,
    ) -> None:
        """`batch`: takes the records it can together, in a few statements (the rest go through
        `handler` one by one, in the same transaction). `handles`: the event classes `handler`
        acts on (None: all); the topics' other events are `Outcome.IGNORED` (a known type is not
        this consumer's poison, whatever its data; an unknown type or a broken envelope still is)."""
        self.name = name
        self.handles = None if handles is None else frozenset(handles)
        self.batch = batch
        self.pool = pool
        self.schema = schema
        self.registry = registry
        self.handler = handler
        self.producer = producer
        self.inbox = Inbox(schema, name)
        self.retry = retry or Redelivery()
        # DEFERRED appears only once something was deferred (the counts compare as before).
        self.counts: dict[Outcome, int] = {
            o: 0 for o in Outcome if o not in (Outcome.DEFERRED, Outcome.IGNORED)
        }

    async def process(self, record: RawMessage) -> Outcome:
        return (await self.process_batch([record]))[0]

    async def process_batch(
        self, records: Sequence[RawMessage], *, deferrals: Deferrals | None = None
    ) -> list[Outcome]:
        """Handle records in one transaction (one commit for all); if anything in it fails,
        roll it back and handle the records one by one, in order, with the single-record policy.

        With `deferrals`, a `RetryLater` record is not waited for in place: it and every record
        after it come back `DEFERRED` (the caller delivers them again later, in order)."""
        with CONSUMER_BATCH_SECONDS.labels(self.name).time():
            result = await self._process_batch(records, deferrals)
        for outcome, n in Counter(result).items():  # one metric update per outcome, not per record
            self.counts[outcome] = self.counts.get(outcome, 0) + n
            CONSUMER_RECORDS.labels(self.name, outcome.value).inc(n)
        return result

    async def _process_batch(
        self, records: Sequence[RawMessage], deferrals: Deferrals | None
    ) -> list[Outcome]:
        outcomes: dict[int, Outcome] = {}
        poison: dict[int, str] = {}
        decoded: dict[int, tuple[Envelope, DomainEvent]] = {}
        for i, record in enumerate(records):
            try:
                found = self._decode(record)
            except PoisonMessage as exc:
                poison[i] = exc.reason
                continue
            if found is None:
                outcomes[i] = Outcome.IGNORED
            else:
                decoded[i] = found
        if len(decoded) > 1:
            try:
                outcomes.update(await self._apply_all(decoded))
            except Exception as exc:
                log.info(
                    "batch rolled back, handling one by one", consumer=self.name, error=type(exc).__name__
                )
        deferred = False
        for i, record in enumerate(records):
            if i in outcomes:
                continue
            if deferred:
                outcomes[i] = Outcome.DEFERRED
            elif i in poison:
                outcomes[i] = await self._dead_letter(record, poison[i])
            else:
                outcomes[i] = await self._handle(record, *decoded[i], deferrals)
                deferred = outcomes[i] is Outcome.DEFERRED
        return [outcomes[i] for i in range(len(records))]

    async def _apply_all(self, decoded: dict[int, tuple[Envelope, DomainEvent]]) -> dict[int, Outcome]:
        """Outcomes of the records handled in one transaction; a record without one (left by the
        batch handler) is handled on its own after it."""
        out: dict[int, Outcome] = {}
        async with self._unit() as unit:
            together, left = await self._apply_together(unit.conn, decoded)
            out.update(together)
            for i, (envelope, event) in decoded.items():
                if i not in together and i not in left:
                    out[i] = await self._claim_and_handle(unit, envelope, event)
        return out

    async def _apply_together(
        self, conn: asyncpg.Connection, decoded: dict[int, tuple[Envelope, DomainEvent]]
    ) -> tuple[dict[int, Outcome], set[int]]:
        """The batch handler's records: outcomes of those it took, and those it left."""
        chosen = batchable(self.batch, decoded) if self.batch is not None else []
        if self.batch is None or not chosen:
            return {}, set()
        plans = await self.batch.prepare(conn, [decoded[i] for i in chosen])
        planned = {i: plan for i, plan in zip(chosen, plans, strict=True) if plan is not None}
        ids = {i: inbox_id(decoded[i][0].id, decoded[i][0].source) for i in planned}
        fresh = await self.inbox.claim_many(conn, list(ids.values()))
        out = {i: Outcome.HANDLED if ids[i] in fresh else Outcome.DUPLICATE for i in planned}
        await self.batch.write(conn, [planned[i] for i in planned if out[i] is Outcome.HANDLED])
        return out, set(chosen) - set(planned)

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
        # The handler's log lines carry the conversation's correlation id and the event's id.
        with structlog.contextvars.bound_contextvars(
            correlation_id=envelope.correlation_id, event_id=envelope.id
        ):
            await self.handler(unit.conn, envelope, event)
        return Outcome.HANDLED

    def _decode(self, record: RawMessage) -> tuple[Envelope, DomainEvent] | None:
        """Decoding is pure: whatever goes wrong in it (bad JSON, an unknown type, invalid data,
        absurd nesting, a failing upcaster) can never succeed on a retry, so it is poison.
        None: a known event this consumer does not handle (its data is not even validated)."""
        try:
            envelope = decode(record.value, list(record.headers or ()))
            if self.handles is not None and self.registry.resolve(envelope.type) not in self.handles:
                return None
            return envelope, self.registry.decode(envelope.type, envelope.data)
        except (PoisonMessage, UnknownEventType, InvalidEventData) as exc:
            raise PoisonMessage(str(exc)) from exc
        except Exception as exc:
            raise PoisonMessage(f"undecodable: {type(exc).__name__}") from exc

    async def _handle(
        self, record: RawMessage, envelope: Envelope, event: DomainEvent, deferrals: Deferrals | None = None
    ) -> Outcome:
        started = time.monotonic() if deferrals is None else deferrals.since(record)
        try:
            retrying = self.retry.retrying(
                started,
                retry_later=deferrals is None,
                consumer=self.name,
                topic=record.topic,
                offset=record.offset,
            )
            async for attempt in retrying:
                with attempt:
                    outcome = await self._apply(envelope, event)
                    if deferrals is not None:
                        deferrals.forget(record)
                    return outcome
        except PoisonMessage as exc:
            return await self._dead_letter(record, exc.reason, deferrals)
        except RetryLater as exc:
            waited = time.monotonic() - started
            if deferrals is not None and waited < self.retry.retry_later_budget_s:
                log.info(
                    "not handleable yet, deferred",
                    consumer=self.name,
                    topic=record.topic,
                    offset=record.offset,
                )
                return Outcome.DEFERRED
            return await self._dead_letter(record, f"gave up after {waited:.0f} s: {exc.reason}", deferrals)
        except Exception as exc:
            # The type only: an exception's text may quote personal data.
            return await self._dead_letter(record, f"handler failed: {type(exc).__name__}", deferrals)
        raise AssertionError("unreachable: the retrying loop returns or raises")

    async def _apply(self, envelope: Envelope, event: DomainEvent) -> Outcome:
        async with self._unit() as unit:
            return await self._claim_and_handle(unit, envelope, event)

    async def _dead_letter(
        self, record: RawMessage, reason: str, deferrals: Deferrals | None = None
    ) -> Outcome:
        if deferrals is not None:
            deferrals.forget(record)
        log.warning(
            "dead-lettered",
            consumer=self.name,
            topic=record.topic,
            offset=record.offset,
            reason_kind=reason.split(":", 1)[0][:80],
        )
        await dead_letter(self.producer, record, reason, self.name)
        DEAD_LETTERED.labels(self.name, record.topic).inc()
        return Outcome.DEAD_LETTERED
