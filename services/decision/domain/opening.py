"""Opening a case from a submitted application, deciding it at once where the catalog automates
the service, and the head's assignment of an executor.
"""

from __future__ import annotations

from services.decision.domain import commands as c
from services.decision.domain.built import built
from services.decision.domain.drafting import decision_made, evaluate_draft
from services.decision.domain.env import Env
from services.decision.domain.errors import InvalidInput, InvalidState
from services.decision.domain.model import CaseState, Status, evolve_all
from services.decision.domain.workflow import Workflow
from shared.contracts.applications import ApplicationSubmitted
from shared.contracts.decisions import (
    CaseFlagged,
    CaseOpened,
    ExecutorAssigned,
    HouseholdMember,
)
from shared.contracts.event import DomainEvent


def case_opened(sub: ApplicationSubmitted, wf: Workflow) -> CaseOpened:
    """The case as the submitted application opens it under its edition's workflow (also what a
    replay from the topics rebuilds the internal `CaseOpened` from)."""
    household = tuple(
        HouseholdMember(
            relation=m.relation,
            full_name=m.full_name,
            monthly_income=m.declared_monthly_income,  # None stays unknown, never zero
        )
        for m in sub.family_members or ()
    )
    # Every part was validated with the application (or comes from the catalog): not again.
    return built(
        CaseOpened,
        application_id=sub.application_id,
        registration_number=sub.registration_number,
        service_id=sub.service_id,
        subtype=sub.subtype,
        edition_id=sub.edition_id,
        channel=sub.channel,
        office_id=sub.office_id,
        region=sub.region,
        received_by=sub.received_by,
        received_at=sub.received_at,
        due_at=sub.due_at,
        household=household,
        categories=tuple(sub.categories or ()),
        automated=wf.automated,
        assignment_required=wf.assignment_required,
        inspection=wf.inspection,
        signature_required=wf.signature_required,
    )


def open_case(cmd: c.OpenCase, state: CaseState, env: Env) -> list[DomainEvent]:
    if state.opened is not None:
        return []  # already open: a redelivered application
    sub = cmd.submitted
    wf = env.workflow
    opened = case_opened(sub, wf)
    events: list[DomainEvent] = [opened]
    if sub.due_at is None:
        events.append(
            CaseFlagged(
                application_id=sub.application_id,
                reason="no_computable_term",
                message=f"no computable term: {sub.due_note or 'the catalog gives none'}",
                flagged_at=env.now,
            )
        )
    if wf.automated:
        state = evolve_all(state, events)
        try:
            draft = evaluate_draft(state, env, None, "system:decision")
        except InvalidInput as exc:
            flag = CaseFlagged(
                application_id=sub.application_id,
                reason="input_missing",
                message=str(exc),
                flagged_at=env.now,
            )
            return [*events, flag]
        if isinstance(draft, CaseFlagged):
            return [*events, draft]
        events.extend(decision_made(state, env, draft, signed_by=None, automated=True))
    return events


def assign_executor(cmd: c.AssignExecutor, state: CaseState, env: Env) -> list[DomainEvent]:
    if not state.is_open or state.status is Status.AWAITING_SIGNATURE:
        raise InvalidState(f"cannot assign an executor to a case in status {state.status.value}")
    return [
        ExecutorAssigned(
            application_id=state.application_id,
            executor=cmd.executor,
            assigned_by=cmd.actor.subject,
            assigned_at=env.now,
        )
    ]
