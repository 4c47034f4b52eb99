"""One application stream: its state (evolve) and the commands on an existing application (decide).

The stream also records what intake learnt of the application's case (`CaseProgressRecorded`):
once it knows of a signed decision, the application can no longer be withdrawn or supplemented.
A withdrawal intake accepted before it learnt of a decision the case had signed first is
overridden (`WithdrawalOverridden`): the case's order is authoritative, as
`services/decision/domain/withdrawal.py` describes for both services.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from shared.catalog.models import Document
from shared.contracts.application_progress import CaseProgressRecorded, WithdrawalOverridden
from shared.contracts.applications import (
    ApplicationRejectedAtIntake,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    DocumentsSupplemented,
    IntakeProblem,
    PresentedDocument,
    ReceivedDocument,
)
from shared.contracts.event import DomainEvent
from shared.domain.errors import InvalidInput, InvalidState, NotFound


class Status(StrEnum):
    NONE = "none"
    SUBMITTED = "submitted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    DECIDED = "decided"
    """A decision was signed (the case said so): nothing at intake changes it any more."""


def stream_id(application_id: str) -> str:
    return f"application-{application_id}"


@dataclass(frozen=True)
class ApplicationState:
    application_id: str | None = None
    status: Status = Status.NONE
    office_id: str | None = None
    service_id: str | None = None
    edition_id: str | None = None
    received_by: str | None = None
    documents: tuple[str, ...] = ()
    decided_at: datetime | None = None
    """When the case's (first) decision was signed, once intake learnt of it."""
    version: int = 0


def evolve(state: ApplicationState, event: DomainEvent) -> ApplicationState:
    state = replace(state, version=state.version + 1)
    if isinstance(event, ApplicationSubmitted):
        return replace(
            state,
            application_id=event.application_id,
            status=Status.SUBMITTED,
            office_id=event.office_id,
            service_id=event.service_id,
            edition_id=event.edition_id,
            received_by=event.received_by,
            documents=tuple(d.document_id for d in event.documents),
        )
    if isinstance(event, ApplicationRejectedAtIntake):
        return replace(
            state,
            application_id=event.application_id,
            status=Status.REJECTED,
            office_id=event.office_id,
            service_id=event.service_id,
            edition_id=event.edition_id,
            received_by=event.received_by,
        )
    if isinstance(event, DocumentsSupplemented):
        return replace(state, documents=state.documents + tuple(d.document_id for d in event.documents))
    if isinstance(event, ApplicationWithdrawn):
        return replace(state, status=Status.WITHDRAWN)
    if isinstance(event, CaseProgressRecorded) and event.step == "decision_made":
        status = Status.DECIDED if state.status is Status.SUBMITTED else state.status
        return replace(state, status=status, decided_at=state.decided_at or event.decided_at)
    if isinstance(event, WithdrawalOverridden):
        return replace(state, status=Status.DECIDED)
    return state


def fold(events: Iterable[DomainEvent]) -> ApplicationState:
    state = ApplicationState()
    for event in events:
        state = evolve(state, event)
    return state


def _require_open(state: ApplicationState) -> str:
    if state.status is Status.NONE or state.application_id is None:
        raise NotFound("no such application")
    if state.decided_at is not None:
        raise InvalidState(
            f"a decision on this application was signed on {state.decided_at.date().isoformat()}:"
            " it can no longer be withdrawn or changed (a complaint contests a decision)",
            title="Decision already signed",
            decided_at=state.decided_at.isoformat(),
        )
    if state.status is not Status.SUBMITTED:
        raise InvalidState(
            f"the application is {state.status.value}; only a submitted one can change", title="Conflict"
        )
    return state.application_id


def decide_withdraw(
    state: ApplicationState, *, by: str, at: datetime, reason: str | None
) -> list[DomainEvent]:
    application_id = _require_open(state)
    return [
        ApplicationWithdrawn(application_id=application_id, withdrawn_by=by, withdrawn_at=at, reason=reason)
    ]


def decide_case_progress(state: ApplicationState, progress: CaseProgressRecorded) -> list[DomainEvent]:
    """Record a step of the application's case. A signed decision overrides a withdrawal intake
    accepted before it learnt of the decision (the case received the withdrawal too late)."""
    if state.status is Status.NONE or state.application_id is None:
        raise NotFound("no such application")
    if state.status is Status.REJECTED:
        return []  # refused at intake: it has no case (a step naming it is not about it)
    events: list[DomainEvent] = [progress]
    if progress.step == "decision_made" and state.status is Status.WITHDRAWN:
        assert progress.decided_at is not None
        events.append(
            WithdrawalOverridden(
                application_id=state.application_id,
                decided_at=progress.decided_at,
                source_event_id=progress.source_event_id,
            )
        )
    return events


def decide_supplement(
    state: ApplicationState,
    documents: Iterable[PresentedDocument],
    edition_documents: Mapping[str, Document],
    *,
    by: str,
    at: datetime,
) -> list[DomainEvent]:
    application_id = _require_open(state)
    problems: list[IntakeProblem] = []
    added: list[ReceivedDocument] = []
    have = set(state.documents)
    for i, presented in enumerate(documents):
        doc = edition_documents.get(presented.document_id)
        if doc is None:
            problems.append(
                IntakeProblem(
                    code="unknown_document",
                    field=f"documents.{i}.document_id",
                    message=f"document {presented.document_id!r} is not in edition {state.edition_id!r}",
                    document_id=presented.document_id,
                )
            )
            continue
        if doc.id in have:
            continue
        have.add(doc.id)
        added.append(
            ReceivedDocument(
                document_id=doc.id, name_kk=doc.name_kk, name_en=doc.name_en, form=presented.form
            )
        )
    if problems:
        raise InvalidInput(
            "some documents are invalid",
            title="Documents not accepted",
            errors=[
                {"field": p.field, "reason": p.message, "code": p.code, "document_id": p.document_id}
                for p in problems
            ],
        )
    if not added:
        raise InvalidState("every document given was received already", title="Conflict")
    return [
        DocumentsSupplemented(
            application_id=application_id, documents=added, supplemented_by=by, supplemented_at=at
        )
    ]
