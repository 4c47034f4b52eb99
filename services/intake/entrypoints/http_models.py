"""The intake API's request and answer bodies, and how events and status rows become answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from fastapi import Response
from pydantic import BaseModel, Field

from services.intake.domain.status import ApplicationStatus
from services.intake.service_layer.handlers import Changed, SubmitResult
from shared.contracts.application_progress import GroundRef
from shared.contracts.applications import (
    ApplicationSubmitted,
    IntakeProblem,
    PresentedDocument,
    ReceivedDocument,
)
from shared.contracts.complaints import ComplaintOutcome
from shared.contracts.event import ContractModel
from shared.contracts.notifications import DeliveryState, NotificationChannel, NotificationKind
from shared.http.problems import problem_response, problem_type

REJECTED_TYPE = problem_type("intake-rejected")


class Talon(BaseModel):
    """The receipt (талон) of an accepted application."""

    application_id: str
    registration_number: str
    status: Literal["submitted"] = "submitted"
    service_id: str
    service_name_kk: str | None = None
    service_name_en: str | None = None
    edition_id: str
    channel: str
    office_id: str
    received_by: str
    received_at: datetime
    due_at: datetime | None
    due_note: str | None = None
    documents: list[ReceivedDocument]
    undetermined_documents: list[str] = Field(default_factory=list)


class WithdrawRequest(ContractModel):
    reason: str | None = Field(default=None, max_length=1000)


class SupplementRequest(ContractModel):
    documents: list[PresentedDocument] = Field(min_length=1, max_length=100)


class IinLookup(ContractModel):
    iin: str = Field(min_length=12, max_length=12, pattern=r"^\d{12}$")


class ApplicationChanged(BaseModel):
    application_id: str
    status: str
    version: int
    events: list[str]


class HistoryItem(BaseModel):
    version: int
    event_type: str
    """Intake's event, or the case's step as the decision service named it (e.g. `decision.made`)."""
    recorded_at: datetime
    actor: str | None = None
    status: ApplicationStatus | None = None
    """The status the step left the application in."""


class DecisionSummary(BaseModel):
    """The signed decision in force: outcome, date and legal grounds."""

    outcome: Literal["approved", "refused", "information"]
    decided_at: datetime
    grounds: list[GroundRef] = Field(default_factory=list)


class ComplaintSummary(BaseModel):
    """A complaint about the application (the complaints service has the whole complaint)."""

    complaint_id: str
    registered_at: datetime | None = None
    review_due_on: date | None = None
    extended: bool = False
    outcome: ComplaintOutcome | None = None
    """None while it is under review."""
    resolved_at: datetime | None = None
    escalated_to: str | None = None
    escalated_at: datetime | None = None


class NoticeSummary(BaseModel):
    """One notification to the applicant and its latest delivery state."""

    notification_id: str
    kind: NotificationKind
    channel: NotificationChannel
    state: DeliveryState
    at: datetime
    trigger_event_id: str | None = None
    """The event the notification was sent for (which decision, for a decision notice)."""


DecisionNotice = Literal["sent", "delivered", "not_delivered", "pickup_only"]
"""What became of telling the applicant the decision in force: delivered on some channel, still
on its way (sent), failed on every channel (not delivered), or only put on the office's list of
results to hand over (pickup only: nobody was told yet). A pickup notice never counts as the
applicant being told, and notices of a decision a reopening set aside do not count."""


class ApplicationView(BaseModel):
    application_id: str
    registration_number: str | None
    status: ApplicationStatus
    status_at: datetime | None = None
    """When the case step that set the status was recorded (None: set at intake)."""
    service_id: str
    subtype: str | None = None
    edition_id: str | None = None
    channel: str
    office_id: str
    region: str | None = None
    received_by: str
    submitted_at: datetime
    due_at: datetime | None
    overdue: bool
    documents: list[str]
    problems: list[IntakeProblem] = Field(default_factory=list)
    updated_at: datetime
    executor: str | None = None
    inspection_date: date | None = None
    decision: DecisionSummary | None = None
    decision_notice: DecisionNotice | None = None
    """None until the notification service takes the decision notice in hand."""
    complaints: list[ComplaintSummary] = Field(default_factory=list)
    notifications: list[NoticeSummary] = Field(default_factory=list)
    result_collection: Literal["collected", "uncollected"] | None = None
    """The result was collected, or its keeping period passed and it went to storage."""
    result_collection_at: datetime | None = None
    history: list[HistoryItem] | None = None


class ApplicationPage(BaseModel):
    items: list[ApplicationView]
    next_cursor: str | None = None


def decision_notice_of(notices: list[NoticeSummary], decision_event_id: str | None) -> DecisionNotice | None:
    about = [
        n
        for n in notices
        if n.kind == "decision_made"
        and (decision_event_id is None or n.trigger_event_id in (None, decision_event_id))
    ]
    if not about:
        return None
    states = {n.state for n in about if n.channel != "pickup"}
    if not states:
        return "pickup_only"
    if "DELIVERED" in states:
        return "delivered"
    return "sent" if "ON_DELIVERY" in states else "not_delivered"


def view_of(row: dict[str, Any]) -> ApplicationView:
    decision = None
    if row.get("decided_at") is not None:
        decision = DecisionSummary(
            outcome=row["decision_outcome"], decided_at=row["decided_at"], grounds=row["decision_grounds"]
        )
    complaints = [
        ComplaintSummary(complaint_id=key, **entry) for key, entry in (row.get("complaints") or {}).items()
    ]
    complaints.sort(key=lambda c: (c.registered_at is None, c.registered_at, c.complaint_id))
    notices = [
        NoticeSummary(notification_id=key, **entry) for key, entry in (row.get("notifications") or {}).items()
    ]
    notices.sort(key=lambda n: (n.at, n.notification_id))
    return ApplicationView(
        **{
            **row,
            "application_id": str(row["application_id"]),
            "decision": decision,
            "decision_notice": decision_notice_of(notices, row.get("decision_event_id")),
            "complaints": complaints,
            "notifications": notices,
        }
    )


def talon_of(event: ApplicationSubmitted, names: tuple[str | None, str | None]) -> Talon:
    """The talon of a validated event: its fields are the event's, so not validated again."""
    return Talon.model_construct(
        application_id=event.application_id,
        registration_number=event.registration_number,
        status="submitted",
        service_id=event.service_id,
        service_name_kk=names[0],
        service_name_en=names[1],
        edition_id=event.edition_id,
        channel=event.channel,
        office_id=event.office_id,
        received_by=event.received_by,
        received_at=event.received_at,
        due_at=event.due_at,
        due_note=event.due_note,
        documents=event.documents,
        undetermined_documents=event.undetermined_documents,
    )


def submit_answer(result: SubmitResult) -> Response:
    headers = {"Idempotent-Replayed": "true" if result.replayed else "false"}
    event = result.event
    if isinstance(event, ApplicationSubmitted):
        headers["Location"] = f"/v1/applications/{event.application_id}"
        # pydantic's own JSON: the bytes a JSONResponse of model_dump made, without the detour (issue 14)
        talon = talon_of(event, result.service_names).model_dump_json()
        return Response(talon, status_code=201, headers=headers, media_type="application/json")
    errors = [
        {"field": p.field, "reason": p.message, "code": p.code, "document_id": p.document_id,
         "name_kk": p.name_kk, "name_en": p.name_en}
        for p in event.problems
    ]  # fmt: skip
    response = problem_response(
        422,
        "Application not accepted",
        f"{len(errors)} item(s) missing or invalid; the refusal is recorded",
        type_=REJECTED_TYPE,
        application_id=event.application_id,
        errors=errors,
    )
    response.headers.update(headers)
    return response


def changed_answer(result: Changed) -> ApplicationChanged:
    assert result.state.application_id is not None
    return ApplicationChanged(
        application_id=result.state.application_id,
        status=result.state.status.value,
        version=result.state.version,
        events=[e.event_name for e in result.events],
    )
