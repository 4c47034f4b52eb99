"""Who may issue which command to the case: one table, read by the domain (`decide`) and by the
HTTP edge (its role checks and OpenAPI documents) alike.

The scope is the case's own office; complaints are also answered by the higher body of the
case's region, whose tokens carry the region id as their office (e.g. "akmola"). The role
`system` acts everywhere; opening a case and firing timers are the service's own steps.
Checks that depend on the case's state (only the assigned executor drafts) stay in the handlers.
"""

from __future__ import annotations

from services.decision.domain import commands as c
from services.decision.domain.model import CaseState
from shared.auth.policy import Permission, Policy, Scope, Target

HEAD = "head"
SPECIALIST = "specialist"
INSPECTOR = "inspector"
REVIEWER = "reviewer"
SYSTEM_ROLE = "system"

POLICY = Policy(
    {
        c.OpenCase: Permission.of(SYSTEM_ROLE, scope=Scope.SYSTEM),
        c.FireTimer: Permission.of(SYSTEM_ROLE, scope=Scope.SYSTEM),
        c.AssignExecutor: Permission.of(HEAD),
        c.CheckDocuments: Permission.of(SPECIALIST),
        c.ScheduleInspection: Permission.of(INSPECTOR, SPECIALIST, HEAD, SYSTEM_ROLE),
        c.RecordInspection: Permission.of(INSPECTOR, SYSTEM_ROLE),
        c.DraftDecision: Permission.of(SPECIALIST),
        c.ReturnForRework: Permission.of(HEAD),
        c.SignDecision: Permission.of(HEAD),
        c.ExtendTerm: Permission.of(HEAD),
        c.RecordFact: Permission.of(SPECIALIST, SYSTEM_ROLE),
        c.ReopenApplication: Permission.of(REVIEWER, SYSTEM_ROLE, scope=Scope.OFFICE_OR_REGION),
    },
    system_role=SYSTEM_ROLE,
)


def authorize(command: type, actor: c.Actor, state: CaseState) -> None:
    """Refuse (Forbidden) an actor whose role or scope the table does not allow on this case."""
    target = Target(office=state.office_id, region=state.opened.region if state.opened else None)
    POLICY.check_scope(command, actor.role, actor.office, actor.subject, target)


__all__ = ["HEAD", "INSPECTOR", "POLICY", "REVIEWER", "SPECIALIST", "SYSTEM_ROLE", "authorize"]
