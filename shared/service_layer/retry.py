"""One retry policy: which errors are worth another attempt, and how long to keep trying.

A retryable error says nothing about the command itself: another transaction got there first
(`ConcurrencyConflict`, a deadlock, a serialization failure) or the database was briefly out of
reach. The command is run again in a new transaction, after a jittered exponential back-off
(tenacity), until the attempts or the time budget run out; then the error goes to the caller
(HTTP answers 409/503, a consumer retries the message with its own back-off).
"""

from __future__ import annotations

from dataclasses import dataclass

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


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    log.info("retrying command", attempt=state.attempt_number, error=type(error).__name__)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 10
    budget_s: float = 10.0
    """Stop retrying once this much time has passed since the first attempt."""
    initial_wait_s: float = 0.005
    max_wait_s: float = 0.5

    def retrying(self, errors: tuple[type[BaseException], ...] = RETRYABLE_ERRORS) -> AsyncRetrying:
        """`async for attempt in policy.retrying(): with attempt: ...` — the last error is re-raised."""
        return AsyncRetrying(
            retry=retry_if_exception_type(errors),
            wait=wait_random_exponential(multiplier=self.initial_wait_s, max=self.max_wait_s),
            stop=stop_after_attempt(self.attempts) | stop_after_delay(self.budget_s),
            before_sleep=_log_retry,
            reraise=True,
        )
