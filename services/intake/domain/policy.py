"""Who may do what at intake: one table for the HTTP API and the Kafka command consumer.

ЦОН operators see and change only what they submitted themselves (`OWN_SUBMISSIONS`); auditors
and administrators read across offices. Office systems (`office_system`) submit on Kafka; the
intake worker itself (`system`) records the case's steps it learns from the decision service.
"""

from __future__ import annotations

from services.intake.domain.commands import (
    LookUpByIin,
    ReadApplications,
    RecordCaseProgress,
    RecordMalformedSubmission,
    SupplementDocuments,
    WithdrawApplication,
)
from shared.auth.policy import Permission, Policy, Scope
from shared.auth.roles import CROSS_OFFICE_ROLES, Role
from shared.contracts.applications import SubmitApplication
from shared.domain.actor import SYSTEM_ROLE

OFFICE_SYSTEM_ROLE = "office_system"
"""The role of a command sent by an office system on `intake.submissions.v1`."""

_SUBMIT = (Role.CLERK, Role.SPECIALIST, Role.TSON)

POLICY = Policy(
    {
        SubmitApplication: Permission.of(*_SUBMIT, OFFICE_SYSTEM_ROLE),
        RecordMalformedSubmission: Permission.of(*_SUBMIT),
        WithdrawApplication: Permission.of(
            Role.CLERK, Role.SPECIALIST, Role.HEAD, Role.TSON, scope=Scope.OWN_SUBMISSIONS
        ),
        SupplementDocuments: Permission.of(*_SUBMIT, scope=Scope.OWN_SUBMISSIONS),
        ReadApplications: Permission.of(
            Role.CLERK,
            Role.SPECIALIST,
            Role.HEAD,
            Role.TSON,
            Role.INSPECTOR,
            Role.AUDITOR,
            Role.ADMIN,
            scope=Scope.OWN_SUBMISSIONS,
        ),
        RecordCaseProgress: Permission.of(SYSTEM_ROLE, scope=Scope.SYSTEM),
        LookUpByIin: Permission.of(
            Role.CLERK, Role.SPECIALIST, Role.HEAD, Role.TSON, Role.AUDITOR, scope=Scope.OWN_SUBMISSIONS
        ),
    },
    cross_office_roles=CROSS_OFFICE_ROLES,
    own_submissions_roles=(Role.TSON,),
)
