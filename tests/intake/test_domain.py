"""Pure intake rules against the real catalog: no database, no broker."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.intake.adapters.catalog import CatalogAdapter
from services.intake.adapters.offices import OfficeBook
from services.intake.domain.application import Status, decide_withdraw, fold
from services.intake.domain.identity import iin_birth_date, iin_problem, make_iin
from services.intake.domain.intake import Acceptance, Rejection, assess, income_tested, submitted_event
from shared.contracts.applications import APPLICATION_EVENTS, ApplicationSubmitted, SubmitApplication
from shared.domain.errors import InvalidState
from tests.intake.conftest import unemployed_registration

NOON = datetime(2025, 6, 4, 7, 0, tzinfo=UTC)  # Wednesday 12:00 in Karaganda (UTC+5)


def test_iin_rules() -> None:
    iin = make_iin(date(1985, 4, 12), 17)
    assert iin_problem(iin) is None
    assert iin_birth_date(iin) == date(1985, 4, 12)
    assert iin_birth_date(make_iin(date(2012, 2, 29), 3)) == date(2012, 2, 29)
    assert iin_problem("12345678901") is not None
    assert iin_problem("85041231001x") is not None
    assert iin_problem("851312300017") is not None  # month 13
    assert iin_problem("850412900017") is not None  # century digit 9
    assert iin_problem(iin[:11] + str((int(iin[11]) + 1) % 10)) is not None
    assert iin_problem("８５０４１２３０００１７") is not None  # full-width digits


def test_offices_match_catalog_regions_and_zones(catalog: CatalogAdapter, offices: OfficeBook) -> None:
    for office in offices.all():
        assert catalog.catalog.time_zone(office.region).key == office.time_zone, office.id
        for channel in office.channels:
            assert catalog.channel_known(channel)


def test_due_date_counts_from_the_day_after_acceptance_in_the_office_zone(
    catalog: CatalogAdapter, offices: OfficeBook
) -> None:
    cmd = SubmitApplication.model_validate(unemployed_registration())
    office = offices.office(cmd.office_id)
    monday_noon = datetime(2025, 6, 2, 7, 0, tzinfo=UTC)  # Monday 12:00 in Karaganda
    late = datetime(2025, 6, 2, 20, 30, tzinfo=UTC)  # already Tuesday 01:30 in Karaganda
    early = assess(cmd, catalog=catalog, office=office, received_at=monday_noon)
    after_midnight = assess(cmd, catalog=catalog, office=office, received_at=late)
    assert isinstance(early, Acceptance) and isinstance(after_midnight, Acceptance)
    assert early.due_at is not None and after_midnight.due_at is not None
    assert office is not None
    # 10 calendar days, not counting the day of acceptance: Monday 2 June -> Thursday 12 June
    assert early.due_at.astimezone(office.zone).date() == date(2025, 6, 12)
    assert after_midnight.due_at.astimezone(office.zone).date() == date(2025, 6, 13)
    # Wednesday 4 June -> Saturday 14 June, a day off -> Monday 16 June
    wednesday = assess(cmd, catalog=catalog, office=office, received_at=NOON)
    assert isinstance(wednesday, Acceptance) and wednesday.due_at is not None
    assert wednesday.due_at.astimezone(office.zone).date() == date(2025, 6, 16)


def test_age_condition_uses_the_subject_birth_date(catalog: CatalogAdapter, offices: OfficeBook) -> None:
    base = unemployed_registration(
        service_id="disability_assessment_mse",
        channel="mse_department",
        documents=[],
    )
    office = offices.office("karaganda-dept-01")
    assert office is not None
    office = type(office)(**{**office.__dict__, "channels": ("mse_department",)})
    adult = assess(SubmitApplication.model_validate(base), catalog=catalog, office=office, received_at=NOON)
    child = assess(
        SubmitApplication.model_validate({**base, "subject_birth_date": "2015-03-01"}),
        catalog=catalog,
        office=office,
        received_at=NOON,
    )
    assert isinstance(adult, Rejection) and isinstance(child, Rejection)
    adult_missing = {p.document_id for p in adult.problems}
    child_missing = {p.document_id for p in child.problems}
    assert "identity_document_copy" in adult_missing and "birth_certificate_copy" not in adult_missing
    assert "birth_certificate_copy" in child_missing and "identity_document_copy" not in child_missing


def test_income_tested_services(catalog: CatalogAdapter) -> None:
    choice = catalog.choose_edition("targeted_social_assistance", "akmola", date(2025, 6, 4))
    assert income_tested(choice.edition)
    assert not income_tested(
        catalog.choose_edition("unemployed_registration", "akmola", date(2025, 6, 4)).edition
    )


def test_submitted_event_round_trips_and_marks_personal_data(
    catalog: CatalogAdapter, offices: OfficeBook
) -> None:
    cmd = SubmitApplication.model_validate(unemployed_registration())
    verdict = assess(cmd, catalog=catalog, office=offices.office(cmd.office_id), received_at=NOON)
    assert isinstance(verdict, Acceptance)
    event = submitted_event(
        cmd, verdict, application_id="a1", registration_number="r1", received_by="clerk", received_at=NOON
    )
    decoded = APPLICATION_EVENTS.decode(event.ce_type(), event.model_dump(mode="json"))
    assert decoded == event
    schema = ApplicationSubmitted.model_json_schema()
    applicant = schema["$defs"]["Applicant"]["properties"]
    assert applicant["iin"]["x-personal-data"] and applicant["full_name"]["x-personal-data"]
    state = fold([event])
    assert state.status is Status.SUBMITTED and state.version == 1
    withdrawn = fold([event, *decide_withdraw(state, by="x", at=NOON, reason=None)])
    assert withdrawn.status is Status.WITHDRAWN
    with pytest.raises(InvalidState, match="withdrawn"):
        decide_withdraw(withdrawn, by="x", at=NOON, reason=None)
