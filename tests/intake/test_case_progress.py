"""What intake learns of the application after intake (decisions.v1, inspections.v1, complaints.v1,
notifications.v1): the status it leads to, and that a signed decision ends withdrawals, on the
in-memory unit (no database)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.intake.adapters.catalog import CatalogAdapter
from services.intake.adapters.offices import OfficeBook
from services.intake.domain.application import Status
from services.intake.domain.commands import RecordCaseProgress, SupplementDocuments, WithdrawApplication
from services.intake.domain.status import ApplicationStatus, StatusPoint, next_status
from services.intake.entrypoints.kafka_case_progress import CONSUMED_TOPICS, TRANSLATIONS, progress_of
from services.intake.service_layer.handlers import Changed, IntakeHandlers, SubmitResult
from shared.contracts.application_progress import CaseProgressRecorded, CaseStep
from shared.contracts.applications import PresentedDocument, SubmitApplication
from shared.contracts.complaints import Complainant, ComplaintRegistered
from shared.contracts.decisions import (
    DecisionMade,
    DecisionReturnedForRework,
    DecisionSubmittedForSignature,
    EntitlementStarted,
    Evaluation,
    ExecutorAssigned,
    Ground,
    InspectionCompleted,
)
from shared.contracts.notifications import NotificationStateChanged
from shared.contracts.topics import contract_of
from shared.domain.actor import Actor
from shared.domain.errors import Forbidden, InvalidState
from shared.messaging.envelope import Envelope
from shared.service_layer import MessageBus, Meta, RetryPolicy
from tests.intake.conftest import DEPT, unemployed_registration

from .fakes import FakeIntakeUnit, IntakeWorld

NOON = datetime(2025, 6, 4, 7, 0, tzinfo=UTC)
CLERK = Meta(Actor("clerk@dept", "clerk", DEPT), correlation_id="corr-1")
WORKER = Meta(Actor("system:intake", "system", "*"), correlation_id="corr-1", causation_id="ce-1")
S = ApplicationStatus


def step(application_id: str, name: CaseStep, at: datetime, **facts: Any) -> CaseProgressRecorded:
    return CaseProgressRecorded(
        application_id=application_id,
        step=name,
        source_event_id=str(uuid.uuid4()),
        source_event_type=f"decision.{name}",
        occurred_at=at,
        **facts,
    )


def decided(application_id: str, at: datetime = NOON) -> CaseProgressRecorded:
    return step(application_id, "decision_made", at, outcome="approved", decided_at=at)


@pytest.fixture
def bus(catalog: CatalogAdapter, offices: OfficeBook) -> MessageBus[FakeIntakeUnit]:
    handlers = IntakeHandlers(catalog, offices, lambda: NOON, pseudonym_key="k" * 32)
    return MessageBus(handlers.table(), IntakeWorld().begin, RetryPolicy(initial_wait_s=0, max_wait_s=0))


async def _submitted(bus: MessageBus[FakeIntakeUnit]) -> str:
    result: SubmitResult = await bus.handle(
        SubmitApplication.model_validate(unemployed_registration()), CLERK
    )
    return result.event.application_id


# ---------------------------------------------------------------------------- the status


def test_the_whole_life_moves_the_status_step_by_step() -> None:
    point = StatusPoint(S.SUBMITTED)
    seen = []
    for i, name in enumerate(
        (
            "executor_assigned",
            "inspection_scheduled",
            "inspection_completed",
            "decision_made",
            "entitlement_started",
            "entitlement_suspended",
            "entitlement_restored",
            "entitlement_terminated",
            "reopened",
        )
    ):
        point = next_status(point, name, NOON + timedelta(minutes=i))  # type: ignore[arg-type]
        seen.append(point.status.value)
    assert seen == [
        "under_review",
        "inspection_scheduled",
        "inspection_completed",
        "decided",
        "entitlement_active",
        "entitlement_suspended",
        "entitlement_active",
        "entitlement_terminated",
        "reopened",
    ]
    assert point.is_open and not StatusPoint(S.DECIDED).is_open


def test_a_step_that_arrives_late_on_the_other_topic_never_moves_the_status_back() -> None:
    decided_point = next_status(StatusPoint(S.UNDER_REVIEW, NOON), "decision_made", NOON + timedelta(hours=2))
    late = next_status(decided_point, "inspection_completed", NOON + timedelta(hours=1))
    assert late == decided_point and not late.is_open  # never open (and overdue) again
    # One transaction (one time): the later stage of the life wins whatever the arrival order.
    at = NOON + timedelta(hours=3)
    same_time = next_status(next_status(decided_point, "reopened", at), "entitlement_suspended", at)
    assert same_time.status is S.REOPENED
    # Any case step supersedes "submitted" (intake's and the decision service's clocks are never compared).
    assert next_status(StatusPoint(S.SUBMITTED), "executor_assigned", NOON - timedelta(days=1)).status is (
        S.UNDER_REVIEW
    )
    assert next_status(StatusPoint(S.WITHDRAWN), "executor_assigned", at).status is S.WITHDRAWN
    assert next_status(decided_point, "term_extended", at) == decided_point


def test_every_case_event_on_the_topics_intake_reads_is_a_step_or_named_as_not_one() -> None:
    not_steps = {
        "decision.case_flagged",
        "decision.deadline_approaching",
        "decision.deadline_breached",
        "entitlement.reconfirmation_due",
        "entitlement.reconfirmation_received",
        "complaint.review_deadline_approaching",
        "complaint.review_deadline_breached",
    }
    on_topics = {e for topic in CONSUMED_TOPICS for e in contract_of(topic).events}
    assert set(CONSUMED_TOPICS) == {"decisions.v1", "inspections.v1", "complaints.v1", "notifications.v1"}
    translated = {e.event_name for e in TRANSLATIONS}
    assert {e.event_name for e in on_topics} - translated == not_steps, "a new case event needs a decision"


def test_a_draft_awaiting_the_heads_signature_is_a_status_until_signed_or_returned() -> None:
    envelope = Envelope(id="ce-5", source="/qyzmet/decision", type="t", data={}, time=NOON, actor="x")
    submitted = DecisionSubmittedForSignature(application_id="a-1", submitted_by="spec-1", submitted_at=NOON)
    waiting = progress_of(envelope, submitted)
    assert waiting is not None
    assert (waiting.step, waiting.recorded_by, waiting.source_event_type) == (
        "submitted_for_signature", "spec-1", "decision.submitted_for_signature",
    )  # fmt: skip
    returned = DecisionReturnedForRework(
        application_id="a-1", reason="пересчитать доход семьи", returned_by="head-1", returned_at=NOON
    )
    back = progress_of(envelope, returned)
    assert back is not None and (back.step, back.recorded_by) == ("returned_for_rework", "head-1")
    assert "пересчитать" not in back.model_dump_json()  # the head's free text stays out of intake

    point = next_status(StatusPoint(S.SUBMITTED), "executor_assigned", NOON)
    seen = []
    for i, name in enumerate(
        ("submitted_for_signature", "returned_for_rework", "submitted_for_signature", "decision_made"), 1
    ):
        point = next_status(point, name, NOON + timedelta(hours=i))  # type: ignore[arg-type]
        seen.append((point.status.value, point.is_open))
    assert seen == [
        ("awaiting_signature", True),  # still awaiting its decision: it can be overdue
        ("under_review", True),
        ("awaiting_signature", True),
        ("decided", False),
    ]
    # A submission that arrives after the decision it led to (older) does not move the status back.
    assert next_status(point, "submitted_for_signature", NOON + timedelta(hours=3)) == point
    # Submitted and signed at one time: the later stage of the life wins.
    at = NOON + timedelta(days=1)
    waiting_point = StatusPoint(S.AWAITING_SIGNATURE, at)
    assert next_status(waiting_point, "decision_made", at).status is S.DECIDED
    assert next_status(
        next_status(waiting_point, "decision_made", at), "submitted_for_signature", at
    ).status is (S.DECIDED)


def test_a_decision_event_becomes_a_step_with_its_date_and_grounds() -> None:
    made = DecisionMade.model_construct(
        application_id="a-1",
        outcome="refused",
        decided_at=NOON,
        grounds=(Ground(id="income_above_poverty_line", text="income above the line", source="rule"),),
        signed_by="head-1",
        drafted_by="spec-1",
        evaluation=Evaluation.model_construct(),
    )
    envelope = Envelope(
        id="ce-9", source="/qyzmet/decision", type=made.ce_type(), data={}, time=NOON, actor="x"
    )
    progress = progress_of(envelope, made)
    assert progress is not None
    assert (progress.step, progress.outcome, progress.decided_at, progress.recorded_by) == (
        "decision_made",
        "refused",
        NOON,
        "head-1",
    )
    assert [g.id for g in progress.grounds] == ["income_above_poverty_line"]
    assert progress.source_event_id == "ce-9" and progress.source_event_type == "decision.made"
    assigned = ExecutorAssigned(
        application_id="a-1", executor="spec-1", assigned_by="head-1", assigned_at=NOON
    )
    assert progress_of(envelope, assigned) is not None
    started = EntitlementStarted(application_id="a-1", service_id="s", office_id="o", start=date(2025, 7, 1))
    assert progress_of(envelope, started).effective == date(2025, 7, 1)  # type: ignore[union-attr]
    assert InspectionCompleted in TRANSLATIONS


def test_a_complaint_becomes_a_step_with_its_ids_and_dates_and_no_personal_data() -> None:
    complainant = Complainant(full_name="Әлия Серікқызы", iin="900101400123", preferred_language="kk")
    registered = ComplaintRegistered(
        complaint_id="c-1", registration_number="AK-2025-000001", subject="decision", application_id="a-1",
        service_id="s", office_id="o", region="akmola", channel="in_person", registered_by="tson-1",
        registered_at=NOON, reviewing_body="oblast_department", reviewing_office="akmola",
        review_due_on=date(2025, 7, 16), review_term_basis="complaint_review_term = 15 days",
        complainant=complainant, idempotency_key="k-1",
    )  # fmt: skip
    envelope = Envelope(id="ce-1", source="/qyzmet/complaints", type=registered.ce_type(), data={}, time=NOON)
    progress = progress_of(envelope, registered)
    assert progress is not None
    assert (progress.step, progress.complaint_id, progress.review_due_on, progress.recorded_by) == (
        "complaint_registered", "c-1", date(2025, 7, 16), "tson-1",
    )  # fmt: skip
    stored = progress.model_dump_json()
    assert "Әлия" not in stored and "900101400123" not in stored
    notice = NotificationStateChanged(
        notification_id="n-1", application_id="a-1", kind="decision_made", channel="email", language="kk",
        state="DELIVERED", attempt=1, office_id="o", trigger_event_id="ce-9", changed_at=NOON,
    )  # fmt: skip
    step = progress_of(envelope, notice)
    assert step is not None and (step.notification_kind, step.notification_channel, step.delivery_state) == (
        "decision_made", "email", "DELIVERED",
    )  # fmt: skip
    about_an_official = registered.model_copy(update={"application_id": None})
    assert progress_of(envelope, about_an_official) is None  # no application: not a step of one


# ---------------------------------------------------------------------------- withdrawal


async def test_a_known_decision_refuses_withdrawal_and_supplements_with_the_reason(
    bus: MessageBus[FakeIntakeUnit],
) -> None:
    aid = await _submitted(bus)
    await bus.handle(RecordCaseProgress(step(aid, "executor_assigned", NOON, executor="spec-1")), WORKER)
    recorded: Changed = await bus.handle(RecordCaseProgress(decided(aid)), WORKER)
    assert recorded.state.status is Status.DECIDED and recorded.state.decided_at == NOON
    with pytest.raises(
        InvalidState, match="decision on this application was signed on 2025-06-04"
    ) as refused:
        await bus.handle(WithdrawApplication(aid, "changed my mind"), CLERK)
    assert refused.value.title == "Decision already signed"
    document = PresentedDocument(document_id="oralman_certificate")
    with pytest.raises(InvalidState, match="signed"):
        await bus.handle(SupplementDocuments(aid, (document,)), CLERK)


async def test_a_decision_learnt_after_an_accepted_withdrawal_overrides_it(
    bus: MessageBus[FakeIntakeUnit],
) -> None:
    aid = await _submitted(bus)
    withdrawn: Changed = await bus.handle(WithdrawApplication(aid), CLERK)
    assert withdrawn.state.status is Status.WITHDRAWN
    # The case had signed before the withdrawal reached it: the decision stands.
    learnt: Changed = await bus.handle(RecordCaseProgress(decided(aid)), WORKER)
    assert [e.event_name for e in learnt.events] == [
        "application.case_progress_recorded",
        "application.withdrawal_overridden",
    ]
    assert learnt.state.status is Status.DECIDED
    too_late: Changed = await bus.handle(
        RecordCaseProgress(step(aid, "withdrawal_too_late", NOON, decided_at=NOON, outcome="approved")),
        WORKER,
    )
    assert [e.event_name for e in too_late.events] == ["application.case_progress_recorded"]
    assert too_late.state.status is Status.DECIDED


async def test_a_case_closed_by_the_withdrawal_stays_withdrawn(bus: MessageBus[FakeIntakeUnit]) -> None:
    aid = await _submitted(bus)
    await bus.handle(WithdrawApplication(aid), CLERK)
    closed: Changed = await bus.handle(RecordCaseProgress(step(aid, "case_withdrawn", NOON)), WORKER)
    assert closed.state.status is Status.WITHDRAWN and closed.state.decided_at is None


async def test_only_the_service_itself_records_case_steps(bus: MessageBus[FakeIntakeUnit]) -> None:
    aid = await _submitted(bus)
    with pytest.raises(Forbidden):
        await bus.handle(RecordCaseProgress(decided(aid)), CLERK)
