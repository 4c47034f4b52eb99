"""The one service-layer shape every service copies: a unit of work per command, one retry
policy, and a message bus whose handler table is the only way a command reaches the domain.

    entrypoint (HTTP / Kafka / timer)  ->  bus.handle(command, meta)
        -> handler looked up by command type (unknown: refused)
        -> retry policy around: unit of work (transaction) -> handler(command, unit, meta)
        -> commit events + projection rows + audit record + timers together
        -> after-commit actions (replies on Kafka, ...)
"""

from shared.service_layer.bus import MessageBus, Meta
from shared.service_layer.retry import RETRYABLE_ERRORS, RetryPolicy, is_retryable
from shared.service_layer.unit_of_work import AfterCommit, PgUnitOfWork, UnitOfWork

__all__ = [
    "RETRYABLE_ERRORS",
    "AfterCommit",
    "MessageBus",
    "Meta",
    "PgUnitOfWork",
    "RetryPolicy",
    "UnitOfWork",
    "is_retryable",
]
