"""The message bus: the one way a command reaches the domain.

A table from command type to handler (as cosmicpython's `COMMAND_HANDLERS`); a command with
no handler is refused. Each command runs in a fresh unit of work under the service's retry
policy, so a race lost to another transaction (a concurrent append, a deadlock) or a database
that blinked is run again, never answered with a 500. Inside a caller's transaction (`within`,
the inbox consumer's batch) the command runs once, in a savepoint; whatever fails goes back to
the caller, which owns the transaction and redelivers in a fresh one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import structlog

from shared.domain.actor import Actor
from shared.domain.errors import UnknownCommand
from shared.service_layer.retry import RETRYABLE_ERRORS, RetryPolicy
from shared.service_layer.unit_of_work import UnitOfWork

U = TypeVar("U", bound=UnitOfWork)
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Meta:
    """Who issues the command and which conversation it belongs to (event metadata, audit)."""

    actor: Actor
    correlation_id: str | None = None
    causation_id: str | None = None

    def event_metadata(self, **extra: str | None) -> dict[str, str | None]:
        """The metadata stored with the events this command appends (and relayed as CloudEvents
        extensions): correlation, causation, the acting subject and office, plus `extra`
        (e.g. the region)."""
        return {
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "actor": self.actor.subject,
            "office": self.actor.office,
            **extra,
        }


Handler = Callable[[Any, U, Meta], Awaitable[Any]]


class MessageBus(Generic[U]):
    def __init__(
        self, handlers: Mapping[type, Handler[U]], begin: Callable[[], U], retry: RetryPolicy | None = None
    ) -> None:
        self.handlers = dict(handlers)
        self.begin = begin
        self.retry = retry or RetryPolicy()

    def handler_for(self, command: object) -> Handler[U]:
        handler = self.handlers.get(type(command))
        if handler is None:
            raise UnknownCommand(f"no handler for {type(command).__name__}")
        return handler

    async def handle(self, command: object, meta: Meta, *, within: U | None = None) -> Any:
        handler = self.handler_for(command)
        if within is not None:
            # The caller owns the transaction: a retry inside it would run behind a newer writer
            # (refused by the store) and keep the caller's snapshot open while it slept. The
            # caller rolls back and redelivers in a fresh transaction instead.
            async with within as uow:
                result = await handler(command, uow, meta)
            _handled(command, meta)
            return result

        async def attempt() -> Any:
            async with self.begin() as uow:
                return await handler(command, uow, meta)

        result = await self.retry.run(attempt, RETRYABLE_ERRORS)
        _handled(command, meta)
        return result


def _handled(command: object, meta: Meta) -> None:
    """One line per command, to follow a conversation (its correlation id) through every
    service's log: the command's name, the actor's role and office, never its data or subject."""
    log.info(
        "command handled",
        command=type(command).__name__,
        correlation_id=meta.correlation_id,
        role=str(meta.actor.role),
        office=meta.actor.office,
    )
