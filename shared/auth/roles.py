"""Roles of the people who use Qyzmet."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CLERK = "clerk"  # applicant desk clerk of a department
    SPECIALIST = "specialist"  # department specialist (responsible executor)
    HEAD = "head"  # head of department: assigns, signs
    INSPECTOR = "inspector"  # member of the inspection (district) commission
    REVIEWER = "reviewer"  # complaint reviewer
    TSON = "tson"  # ЦОН operator
    AUDITOR = "auditor"  # compliance auditor: reads across offices
    ADMIN = "admin"  # administrator: catalog, parameters, adoptions


CROSS_OFFICE_ROLES = frozenset({Role.AUDITOR, Role.ADMIN})
"""Roles whose scope is every office rather than their own."""
