"""The executor's review before a decision: the document check and the household's inspection,
both possible only while the case is under review.
"""

from __future__ import annotations

from services.decision.domain import commands as c
from services.decision.domain.env import Env
from services.decision.domain.errors import InvalidState
from services.decision.domain.input_checks import check_inspection_act
from services.decision.domain.model import CaseState, Status
from shared.contracts.decisions import (
    DocumentsChecked,
    InspectionCompleted,
    InspectionScheduled,
)
from shared.contracts.event import DomainEvent


def need_review(state: CaseState, what: str) -> None:
    if state.status is Status.REGISTERED:
        raise InvalidState(f"cannot {what}: the head has not assigned an executor yet")
    if state.status not in (Status.UNDER_REVIEW, Status.AWAITING_INSPECTION):
        raise InvalidState(f"cannot {what} in status {state.status.value}")


def check_documents(cmd: c.CheckDocuments, state: CaseState, env: Env) -> list[DomainEvent]:
    need_review(state, "check documents")
    return [
        DocumentsChecked(
            application_id=state.application_id,
            complete=cmd.complete,
            notes=cmd.notes,
            checked_by=cmd.actor.subject,
            checked_at=env.now,
        )
    ]


def _inspection_possible(state: CaseState, env: Env, action: str) -> None:
    if env.workflow.inspection == "none":
        raise InvalidState(f"edition {env.edition.id!r} of {env.service.id!r} has no inspection")
    need_review(state, action)
    if state.inspection is not None and not state.reopened:  # a reopened case may be inspected again
        raise InvalidState("the inspection was already completed")


def schedule_inspection(cmd: c.ScheduleInspection, state: CaseState, env: Env) -> list[DomainEvent]:
    _inspection_possible(state, env, "schedule an inspection")
    return [
        InspectionScheduled(
            application_id=state.application_id,
            office_id=state.office_id,
            inspection_date=cmd.inspection_date,
            inspecting_body=cmd.inspecting_body,
            communicated_to_applicant=cmd.communicated_to_applicant,
            scheduled_by=cmd.actor.subject,
            scheduled_at=env.now,
        )
    ]


def record_inspection(cmd: c.RecordInspection, state: CaseState, env: Env) -> list[DomainEvent]:
    _inspection_possible(state, env, "record an inspection")
    check_inspection_act(cmd, env)
    return [
        InspectionCompleted(
            application_id=state.application_id,
            office_id=state.office_id,
            act=cmd.act,
            recorded_by=cmd.actor.subject,
            recorded_at=env.now,
        )
    ]
