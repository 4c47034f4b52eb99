"""Reads of a case, as entries of the policy table (who may read what)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReadCase:
    """The whole case (draft, decision and its evaluation: household names, incomes, birth
    dates): the roles that handle or audit cases, within their scope."""


@dataclass(frozen=True)
class ReadCaseStatus:
    """The case's status without personal data: every role, within its office; a ЦОН
    operator only for the applications it received itself."""


@dataclass(frozen=True)
class ReadCaseDetails:
    """History and evaluations (household names and incomes): case-handling roles only; audited."""


@dataclass(frozen=True)
class ReadWorklist:
    """An office's overdue worklist."""
