"""Reads of a case, as entries of the policy table (who may read what)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReadCase:
    """The case's status view: every role, within its office."""


@dataclass(frozen=True)
class ReadCaseDetails:
    """History and evaluations (household names and incomes): case-handling roles only; audited."""


@dataclass(frozen=True)
class ReadWorklist:
    """An office's overdue worklist."""
