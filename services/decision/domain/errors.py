"""Domain errors of the decision service: the command is refused and nothing is stored.

The kinds are the platform's (`shared.domain.errors`); `CaseNotFound` names the missing case.
"""

from __future__ import annotations

from shared.domain.errors import DomainError, Forbidden, InvalidInput, InvalidState, NotFound


class CaseNotFound(NotFound):
    code = "not_found"


__all__ = ["CaseNotFound", "DomainError", "Forbidden", "InvalidInput", "InvalidState", "NotFound"]
