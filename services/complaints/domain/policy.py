"""Who may do what with complaints: one table for the HTTP API, the Kafka command consumer and
the timer scheduler.

Officers who receive applications (clerks, specialists, heads, ЦОН operators) register
complaints at their own office; office systems send them on `complaints.submissions.v1`. Only a
`reviewer` of the office the complaint was routed to extends its term and answers it. A reader
sees the complaints of their office (registered there, about it, or routed to it); auditors and
administrators read across offices.
"""

from __future__ import annotations

from services.complaints.domain.commands import (
    ExtendReview,
    FireReviewTimer,
    ReadComplaint,
    ReadComplaints,
    ReadFigures,
    RecordEscalation,
    ResolveComplaint,
)
from shared.auth.policy import Permission, Policy, Scope
from shared.auth.roles import CROSS_OFFICE_ROLES, Role
from shared.contracts.complaints import FileComplaint
from shared.domain.actor import SYSTEM_ROLE

OFFICE_SYSTEM_ROLE = "office_system"
"""The role of a command sent by an office system on `complaints.submissions.v1`."""

_READERS = (
    Role.CLERK, Role.SPECIALIST, Role.HEAD, Role.TSON, Role.REVIEWER, Role.AUDITOR, Role.ADMIN,
)  # fmt: skip

POLICY = Policy(
    {
        FileComplaint: Permission.of(
            Role.CLERK, Role.SPECIALIST, Role.HEAD, Role.TSON, Role.REVIEWER, OFFICE_SYSTEM_ROLE
        ),
        ExtendReview: Permission.of(Role.REVIEWER),
        ResolveComplaint: Permission.of(Role.REVIEWER),
        RecordEscalation: Permission.of(Role.REVIEWER, Role.CLERK, Role.SPECIALIST, Role.TSON),
        FireReviewTimer: Permission.of(SYSTEM_ROLE, scope=Scope.SYSTEM),
        ReadComplaint: Permission.of(*_READERS),
        ReadComplaints: Permission.of(*_READERS),
        ReadFigures: Permission.of(Role.HEAD, Role.AUDITOR, Role.ADMIN),
    },
    cross_office_roles=CROSS_OFFICE_ROLES,
)
