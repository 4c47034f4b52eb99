"""Who may issue which command to the case: one table, read by the domain (`decide`) and by the
HTTP edge (its role checks and OpenAPI documents) alike.

The scope is the case's own office; complaints are also answered by the higher body of the
case's region, whose tokens carry the region id as their office (e.g. "akmola"). The role
`system` acts everywhere; opening a case, firing timers and closing a withdrawn application's
case are the service's own steps (a withdrawal is taken at intake and arrives on Kafka).
Checks that depend on the case's state (only the assigned executor drafts) stay in the handlers.
"""

from __future__ import annotations

from services.decision.domain import commands as c
from services.decision.domain.model import CaseState
from services.decision.domain.queries import ReadCase, ReadCaseDetails, ReadCaseStatus, ReadWorklist
from shared.auth.policy import Permission, Policy, Scope, Target
from shared.auth.roles import CROSS_OFFICE_ROLES, Role
from shared.domain.actor import SYSTEM_ROLE

CASE_READERS = (Role.SPECIALIST, Role.HEAD, Role.INSPECTOR, Role.REVIEWER, Role.AUDITOR)
"""Who sees the whole case (household, incomes, evaluations): those who handle or audit it.
The desk (clerks, ЦОН operators) and administrators see its status only."""

POLICY = Policy(
    {
        c.OpenCase: Permission.of(SYSTEM_ROLE, scope=Scope.SYSTEM),
        c.FireTimer: Permission.of(SYSTEM_ROLE, scope=Scope.SYSTEM),
        c.AssignExecutor: Permission.of(Role.HEAD),
        c.CheckDocuments: Permission.of(Role.SPECIALIST),
        c.ScheduleInspection: Permission.of(Role.INSPECTOR, Role.SPECIALIST, Role.HEAD, SYSTEM_ROLE),
        c.RecordInspection: Permission.of(Role.INSPECTOR, SYSTEM_ROLE),
        c.DraftDecision: Permission.of(Role.SPECIALIST),
        c.ReturnForRework: Permission.of(Role.HEAD),
        c.SignDecision: Permission.of(Role.HEAD),
        c.ExtendTerm: Permission.of(Role.HEAD),
        c.RecordFact: Permission.of(Role.SPECIALIST, SYSTEM_ROLE),
        c.ReopenApplication: Permission.of(Role.REVIEWER, SYSTEM_ROLE, scope=Scope.OFFICE_OR_REGION),
        c.CloseWithdrawn: Permission.of(SYSTEM_ROLE, scope=Scope.SYSTEM),
        ReadCase: Permission.of(*CASE_READERS),
        ReadCaseDetails: Permission.of(*CASE_READERS),
        ReadCaseStatus: Permission.of(*Role, scope=Scope.OWN_SUBMISSIONS),
        ReadWorklist: Permission.of(*Role),
    },
    cross_office_roles=CROSS_OFFICE_ROLES,
    own_submissions_roles=(Role.TSON,),
    system_role=SYSTEM_ROLE,
)


def not_found(application_id: str) -> str:
    """The words of a missing case, also said of a case outside the caller's scope."""
    return f"no case for application {application_id!r}"


def target_of(state: CaseState) -> Target:
    opened = state.opened
    return Target(
        office=state.office_id,
        region=opened.region if opened else None,
        submitted_by=opened.received_by if opened else None,
    )


def authorize(command: type, actor: c.Actor, state: CaseState) -> None:
    """Refuse an actor whose role (Forbidden) or scope the table does not allow on this case;
    another office's case answers as a missing one (NotFound), so its existence is not told."""
    POLICY.check_scope(
        command, actor.role, actor.office, actor.subject, target_of(state),
        hide=True, not_found=not_found(state.application_id),
    )  # fmt: skip


__all__ = ["CASE_READERS", "POLICY", "authorize", "not_found", "target_of"]
