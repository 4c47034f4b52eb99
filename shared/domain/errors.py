"""Domain refusals: a command is refused and nothing is stored.

Each kind says *why* in domain terms; the HTTP edge maps the kind to a status code
(`shared.http.problems`), the Kafka edge to a dead letter. The domain never names a status code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class DomainError(Exception):
    """Base class; `code` names the kind (the last part of the problem type URI)."""

    code = "domain_error"

    def __init__(
        self,
        message: str,
        *,
        title: str | None = None,
        errors: Sequence[Mapping[str, Any]] = (),
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.title = title
        self.errors = [dict(e) for e in errors]
        """Per-field reasons: `{"field": ..., "reason": ..., ...}` (never the offending value)."""
        self.extra = extra
        """Further members of the answer (say the conflicting application's id)."""


class NotFound(DomainError):
    """No such thing, or one the caller may not know exists."""

    code = "not_found"


class Forbidden(DomainError):
    """The caller's role or scope does not allow the command."""

    code = "forbidden"


class InvalidInput(DomainError):
    """The command's own data is wrong (a date in the future, a period that ends before it starts)."""

    code = "invalid_input"


class InvalidState(DomainError):
    """The command does not fit the aggregate's current state (already decided, withdrawn...)."""

    code = "invalid_state"


class Conflict(DomainError):
    """The command collides with an earlier one (an idempotency key reused with another body)."""

    code = "conflict"


class UnknownCommand(DomainError):
    """No handler is registered for the command's type: a programming error at the edge."""

    code = "unknown_command"
