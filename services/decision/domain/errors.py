"""Domain errors: the command is refused and nothing is stored."""

from __future__ import annotations


class DomainError(Exception):
    """Base class; `code` names the kind for the HTTP problem type."""

    code = "domain_error"


class Forbidden(DomainError):
    code = "forbidden"


class InvalidState(DomainError):
    code = "invalid_state"


class InvalidInput(DomainError):
    code = "invalid_input"


class CaseNotFound(DomainError):
    code = "not_found"
