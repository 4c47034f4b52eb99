"""Which errors are transient (retry with backoff) rather than poison (dead-letter)."""

from __future__ import annotations

import asyncpg

from shared.eventstore.errors import ConcurrencyConflict

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ConnectionError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.AdminShutdownError,
    ConcurrencyConflict,  # the stream moved on: retried in a new transaction, never lost
)


def is_transient(error: BaseException) -> bool:
    return isinstance(error, TRANSIENT_ERRORS)
