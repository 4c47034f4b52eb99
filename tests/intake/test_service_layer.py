"""The intake handlers on the bus over an in-memory unit of work: no database, milliseconds each."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.intake.adapters.catalog import CatalogAdapter
from services.intake.adapters.offices import OfficeBook
from services.intake.domain.commands import LookUpByIin, SupplementDocuments, WithdrawApplication
from services.intake.domain.policy import OFFICE_SYSTEM_ROLE
from services.intake.service_layer.handlers import Changed, IntakeHandlers, SubmitResult
from shared.contracts.applications import ApplicationSubmitted, PresentedDocument, SubmitApplication
from shared.domain.actor import Actor
from shared.domain.errors import Conflict, Forbidden, InvalidInput, InvalidState, NotFound
from shared.service_layer import MessageBus, Meta, RetryPolicy
from tests.intake.conftest import APPLICANT_IIN, DEPT, TSON, carer_allowance, unemployed_registration

from .fakes import FakeIntakeUnit, IntakeWorld

NOON = datetime(2025, 6, 4, 7, 0, tzinfo=UTC)
CLERK = Meta(Actor("clerk@dept", "clerk", DEPT), correlation_id="corr-1")


@pytest.fixture
def world() -> IntakeWorld:
    return IntakeWorld()


@pytest.fixture
def bus(world: IntakeWorld, catalog: CatalogAdapter, offices: OfficeBook) -> MessageBus[FakeIntakeUnit]:
    handlers = IntakeHandlers(catalog, offices, lambda: NOON, pseudonym_key="k" * 32)
    return MessageBus(handlers.table(), world.begin, RetryPolicy(initial_wait_s=0, max_wait_s=0))


def submission(**overrides: object) -> SubmitApplication:
    return SubmitApplication.model_validate(unemployed_registration(**overrides))


async def test_an_accepted_submission_commits_its_event_number_key_and_audit_record_together(
    bus: MessageBus[FakeIntakeUnit], world: IntakeWorld
) -> None:
    first: SubmitResult = await bus.handle(submission(), CLERK)
    second: SubmitResult = await bus.handle(submission(), CLERK)
    assert isinstance(first.event, ApplicationSubmitted) and isinstance(second.event, ApplicationSubmitted)
    assert first.event.registration_number == f"{DEPT}-2025-000001"
    assert first.service_names[0] and first.service_names[1]  # for the talon, from the catalog
    assert first.channel_kind == "department"
    odd: SubmitResult = await bus.handle(submission(channel="carrier_pigeon"), CLERK)
    assert odd.channel_kind == "unknown"  # never a metric label made up by a client
    assert second.event.registration_number == f"{DEPT}-2025-000002"
    stored = world.store.events()
    assert [e.event_type for e in stored][:2] == ["application.submitted"] * 2
    assert stored[0].metadata == {"correlation_id": "corr-1", "actor": "clerk@dept", "office": DEPT}
    assert [r.action for r in world.audit.records] == ["application.submit"] * 3
    assert world.audit.records[0].details["outcome"] == "accepted"


async def test_the_same_key_and_body_replays_the_first_outcome_another_body_is_a_conflict(
    bus: MessageBus[FakeIntakeUnit], world: IntakeWorld
) -> None:
    cmd = submission()
    first: SubmitResult = await bus.handle(cmd, CLERK)
    again: SubmitResult = await bus.handle(cmd, CLERK)
    assert again.replayed and again.event == first.event
    assert again.stored is not None and again.stored.event_id == world.store.events()[0].event_id
    with pytest.raises(Conflict, match="different request body") as refused:
        await bus.handle(cmd.model_copy(update={"channel": "tson"}), CLERK)
    assert refused.value.extra["application_id"] == first.event.application_id
    assert len(world.store.events()) == 1 and len(world.audit.records) == 1


async def test_a_missing_document_is_a_recorded_refusal_not_an_error(
    bus: MessageBus[FakeIntakeUnit], world: IntakeWorld
) -> None:
    result: SubmitResult = await bus.handle(submission(documents=[]), CLERK)
    assert not result.accepted
    assert [e.event_type for e in world.store.events()] == ["application.rejected_at_intake"]
    assert world.audit.records[0].details["outcome"] == "rejected"


async def test_submitting_for_another_office_is_forbidden_for_people_and_office_systems(
    bus: MessageBus[FakeIntakeUnit], world: IntakeWorld
) -> None:
    with pytest.raises(Forbidden, match="may not submit for office"):
        await bus.handle(submission(), Meta(Actor("clerk@other", "clerk", "akmola-dept-01")))
    with pytest.raises(Forbidden, match="role 'inspector' may not"):
        await bus.handle(submission(), Meta(Actor("insp", "inspector", DEPT)))
    accepted: SubmitResult = await bus.handle(
        submission(), Meta(Actor("system-officer", OFFICE_SYSTEM_ROLE, DEPT))
    )
    assert accepted.accepted
    assert len(world.store.events()) == 1


async def test_withdrawal_changes_state_once_and_follows_the_operator_scope(
    bus: MessageBus[FakeIntakeUnit], world: IntakeWorld
) -> None:
    tson = Meta(Actor("operator-1", "tson", TSON))
    submitted: SubmitResult = await bus.handle(SubmitApplication.model_validate(carer_allowance()), tson)
    assert submitted.accepted
    aid = submitted.event.application_id
    with pytest.raises(NotFound, match="no such application"):  # not revealed to exist
        await bus.handle(WithdrawApplication(aid), Meta(Actor("operator-2", "tson", TSON)))
    with pytest.raises(NotFound):
        await bus.handle(WithdrawApplication("no-such-application"), tson)
    changed: Changed = await bus.handle(WithdrawApplication(aid, "moved away"), tson)
    assert changed.state.status.value == "withdrawn" and changed.state.version == 2
    with pytest.raises(InvalidState, match="withdrawn"):
        await bus.handle(WithdrawApplication(aid), tson)
    assert [r.action for r in world.audit.records] == ["application.submit", "application.withdraw"]


async def test_supplementing_an_unknown_document_is_invalid_input_with_the_field(
    bus: MessageBus[FakeIntakeUnit],
) -> None:
    submitted: SubmitResult = await bus.handle(submission(), CLERK)
    bad = SupplementDocuments(
        submitted.event.application_id, (PresentedDocument(document_id="moon_rock", form="original"),)
    )
    with pytest.raises(InvalidInput) as refused:
        await bus.handle(bad, CLERK)
    assert refused.value.errors[0]["field"] == "documents.0.document_id"


async def test_an_iin_lookup_is_audited_under_a_pseudonym_and_scoped(
    bus: MessageBus[FakeIntakeUnit], world: IntakeWorld
) -> None:
    world.status_rows += [
        {"application_id": "a1", "applicant_iin": APPLICANT_IIN, "office_id": DEPT, "received_by": "x"},
        {"application_id": "a2", "applicant_iin": APPLICANT_IIN, "office_id": TSON, "received_by": "y"},
    ]
    rows = await bus.handle(LookUpByIin(APPLICANT_IIN), CLERK)
    assert [r["application_id"] for r in rows] == ["a1"]
    record = world.audit.records[-1]
    assert record.action == "personal_data.read" and record.details["results"] == ["a1"]
    assert APPLICANT_IIN not in str(record.details)
    with pytest.raises(InvalidInput, match="invalid ИИН"):
        await bus.handle(LookUpByIin("123456789012"), CLERK)
