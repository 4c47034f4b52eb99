"""Writes a `KnownLog` into real service schemas as the services store it: their migrations,
their stream names, the contract's events through the platform event store."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg

from services.complaints.bootstrap import MIGRATIONS as COMPLAINTS_MIGRATIONS
from services.complaints.domain.complaint import stream_id as complaint_stream
from services.decision.bootstrap import MIGRATIONS as DECISION_MIGRATIONS
from services.decision.service_layer.case_streams import stream_of as case_stream
from services.intake.bootstrap import MIGRATIONS as INTAKE_MIGRATIONS
from services.intake.domain.application import stream_id as application_stream
from shared.contracts.applications import (
    Applicant,
    ApplicationRejectedAtIntake,
    ApplicationSubmitted,
    DocumentsSupplemented,
    IntakeProblem,
)
from shared.contracts.complaints import (
    Complainant,
    ComplaintRegistered,
    ComplaintResolved,
    ComplaintReviewExtended,
)
from shared.contracts.decisions import (
    DecisionMade,
    DecisionReturnedForRework,
    DocumentsChecked,
    EligibilityInputs,
    Evaluation,
)
from shared.contracts.event import DomainEvent
from shared.eventstore import EventStore, apply_migrations
from shared.quality.pg_reader import EventSchemas
from shared.service_layer.streams import new_event
from tests.quality.known_log import EDITION, REGION, SERVICE, KnownLog


async def migrate(conn: asyncpg.Connection, schemas: EventSchemas) -> None:
    await apply_migrations(conn, schemas.intake, *INTAKE_MIGRATIONS)
    await apply_migrations(conn, schemas.decision, *DECISION_MIGRATIONS)
    await apply_migrations(conn, schemas.complaints, *COMPLAINTS_MIGRATIONS)


async def _append(conn: asyncpg.Connection, schema: str, stream: str, event: DomainEvent) -> None:
    await EventStore(schema).append(conn, stream, [new_event(event, {"actor": "test"})], None)


def _submitted(app: str, person: str, at: datetime, office: str) -> ApplicationSubmitted:
    return ApplicationSubmitted(
        application_id=app, registration_number=f"{office}-{app}", service_id=SERVICE, edition_id=EDITION,
        edition_basis="in force", channel="department", office_id=office, region=REGION,
        received_by="clerk", received_at=at, due_at=at + timedelta(days=5),
        applicant=Applicant(iin=person, full_name="Applicant"), documents=[], idempotency_key=app,
    )  # fmt: skip


def _decided(app: str, at: datetime, due: datetime | None, office: str) -> DecisionMade:
    inputs = EligibilityInputs(application_date=date(2009, 3, 2), region=REGION, channel="department")
    evaluation = Evaluation(
        service_id=SERVICE, edition_id=EDITION, rule_ids=(), computable=False, inputs=inputs, outcome=None
    )
    return DecisionMade(
        application_id=app, service_id=SERVICE, edition_id=EDITION, office_id=office, region=REGION,
        channel="department", outcome="approved", result_id=None, automated=False, drafted_by="specialist",
        signed_by="head", decided_at=at, due_at=due, on_time=None if due is None else at <= due,
        evaluation=evaluation,
    )  # fmt: skip


async def write_intake(conn: asyncpg.Connection, schema: str, log: KnownLog) -> None:
    events: list[tuple[datetime, str, DomainEvent]] = []
    for person, at in log.refusals:
        refused = str(uuid.uuid4())
        problem = IntakeProblem(code="missing_document", field="documents", message="missing")
        events.append((at, refused, ApplicationRejectedAtIntake(
            application_id=refused, service_id=SERVICE, channel="department", office_id=log.office,
            region=REGION, edition_id=EDITION, received_by="clerk", rejected_at=at, applicant_iin=person,
            problems=[problem], idempotency_key=refused,
        )))  # fmt: skip
    for app, person, at in log.submissions:
        events.append((at, app, _submitted(app, person, at, log.office)))
    for app, kind, at in log.reworks:
        if kind == "documents_supplemented":
            supplemented = DocumentsSupplemented(
                application_id=app, documents=[], supplemented_by="clerk", supplemented_at=at
            )
            events.append((at, app, supplemented))
    for _, app, event in sorted(events, key=lambda item: item[0]):
        await _append(conn, schema, application_stream(app), event)


async def write_decisions(conn: asyncpg.Connection, schema: str, log: KnownLog) -> None:
    for app, _, at in log.submissions[:30]:  # complete documents: not a rework
        await _append(conn, schema, case_stream(app), DocumentsChecked(
            application_id=app, complete=True, checked_by="specialist", checked_at=at + timedelta(hours=1),
        ))  # fmt: skip
    for app, kind, at in log.reworks:
        if kind == "documents_incomplete":
            event: DomainEvent = DocumentsChecked(
                application_id=app, complete=False, checked_by="specialist", checked_at=at
            )
        elif kind == "returned_for_rework":
            event = DecisionReturnedForRework(
                application_id=app, reason="x", returned_by="head", returned_at=at
            )
        else:
            continue
        await _append(conn, schema, case_stream(app), event)
    for app, decided, due in log.decisions:
        await _append(conn, schema, case_stream(app), _decided(app, decided, due, log.office))


def _registered(complaint: str, app: str, at: datetime, due: date, office: str) -> ComplaintRegistered:
    return ComplaintRegistered(
        complaint_id=complaint, registration_number=complaint, subject="decision", application_id=app,
        service_id=SERVICE, office_id=office, region=REGION, channel="in_person", registered_by="clerk",
        registered_at=at, reviewing_body="oblast_department", reviewing_office="karaganda-dept-01",
        review_due_on=due, review_term_basis="test", complainant=Complainant(full_name="Applicant"),
        idempotency_key=complaint,
    )  # fmt: skip


async def write_complaints(conn: asyncpg.Connection, schema: str, log: KnownLog) -> None:
    for complaint, app, outcome, at, on_time, first_due, due in log.complaints:
        stream = complaint_stream(complaint)
        await _append(
            conn, schema, stream, _registered(complaint, app, at - timedelta(days=5), first_due, log.office)
        )
        if due != first_due:
            await _append(conn, schema, stream, ComplaintReviewExtended(
                complaint_id=complaint, application_id=app, previous_due_on=first_due, review_due_on=due,
                reason="more time", extended_by="reviewer", extended_at=at - timedelta(days=2),
            ))  # fmt: skip
        await _append(conn, schema, stream, ComplaintResolved(
            complaint_id=complaint, application_id=app, subject="decision", service_id=SERVICE,
            office_id=log.office, reviewing_office="karaganda-dept-01", outcome=outcome,
            reasoning="reasons", reviewed_by="reviewer", resolved_at=at, on_time=on_time, reopen_case=False,
        ))  # fmt: skip
    for complaint, app, due in log.open_complaints:
        registered = _registered(complaint, app, datetime(2009, 3, 6, 6, tzinfo=UTC), due, log.office)
        await _append(conn, schema, complaint_stream(complaint), registered)


async def write_log(conn: asyncpg.Connection, schemas: EventSchemas, log: KnownLog) -> None:
    await write_intake(conn, schemas.intake, log)
    await write_decisions(conn, schemas.decision, log)
    await write_complaints(conn, schemas.complaints, log)
