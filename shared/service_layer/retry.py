"""One retry policy: which errors are worth another attempt, and how long to keep trying.

A retryable error says nothing about the command itself: another transaction got there first
(`ConcurrencyConflict`, a deadlock, a serialization failure) or the database was briefly out of
reach. The command is run again in a new transaction, after a jittered exponential back-off
(tenacity), until the attempts or the time budget run out; then the error goes to the caller
(HTTP answers 409/503, a consumer retries the message with its own back-off).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

import asyncpg
import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from shared.eventstore.errors import ConcurrencyConflict

log = structlog.get_logger(__name__)
T = TypeVar("T")

CONFLICTS: tuple[type[BaseException], ...] = (
    ConcurrencyConflict,  # the stream moved on: decide again on the new state
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
)
"""Races between transactions: the loser runs again and sees the winner's writes."""

UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    ConnectionError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.ReadOnlySQLTransactionError,
    asyncpg.exceptions.InternalClientError,  # the server went away mid-protocol (a fast shutdown)
)
"""The database is out of reach for a moment: restart (cannot connect now, admin or crash
shutdown), fail-over (the old primary, now a standby, refuses writes: read-only transaction),
connection lost, too many connections."""

RETRYABLE_ERRORS: tuple[type[BaseException], ...] = CONFLICTS + UNAVAILABLE


def is_retryable(error: BaseException) -> bool:
    return isinstance(error, RETRYABLE_ERRORS)


def _log_retry_of(attempt: int, error: BaseException | None) -> None:
    log.info("retrying command", attempt=attempt, error=type(error).__name__)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 10
    budget_s: float = 10.0
    """Stop retrying once this much time has passed since the first attempt."""
    initial_wait_s: float = 0.005
    """The first back-off is up to this long; each next one up to twice the one before (jittered)."""
    max_wait_s: float = 0.5
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, compare=False, repr=False)
    """How a back-off waits (a test records the waits instead)."""

    def retrying(
        self, errors: tuple[type[BaseException], ...] = RETRYABLE_ERRORS, *, earlier_attempts: int = 0
    ) -> AsyncRetrying:
        """`async for attempt in policy.retrying(): with attempt: ...` — the last error is re-raised.
        `earlier_attempts`: attempts made before these (the log numbers the attempts from them)."""

        def log_retry(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome is not None else None
            _log_retry_of(earlier_attempts + state.attempt_number, error)

        return AsyncRetrying(
            retry=retry_if_exception_type(errors),
            wait=wait_random_exponential(multiplier=self.initial_wait_s, max=self.max_wait_s),
            stop=stop_after_attempt(self.attempts) | stop_after_delay(self.budget_s),
            before_sleep=log_retry,
            reraise=True,
            sleep=self.sleep,
        )

    async def run(
        self, attempt: Callable[[], Awaitable[T]], errors: tuple[type[BaseException], ...] = RETRYABLE_ERRORS
    ) -> T:
        """`attempt()` under this policy. The first attempt runs as a plain call: most succeed, and
        tenacity's machinery costs a command ~0.1 ms of CPU (issue 14: ~8 % of an HTTP
        submission); only once it failed with one of `errors` do the other attempts run under
        `retrying`, after the back-off, within what is left of the attempts and the time budget."""
        started = time.monotonic()
        try:
            return await attempt()
        except errors as exc:
            if self.attempts <= 1 or time.monotonic() - started >= self.budget_s:
                raise
            _log_retry_of(1, exc)
        await self.sleep(random.uniform(0, min(self.max_wait_s, self.initial_wait_s)))
        # tenacity's windows double from `initial_wait_s` at its own first retry: here that is
        # the second one, whose window is twice the first's
        later = replace(
            self,
            attempts=self.attempts - 1,
            budget_s=max(0.0, self.budget_s - (time.monotonic() - started)),
            initial_wait_s=self.initial_wait_s * 2,
        )
        async for retry in later.retrying(errors, earlier_attempts=1):
            with retry:
                return await attempt()
        raise AssertionError("unreachable: the retry policy re-raises the last error")
