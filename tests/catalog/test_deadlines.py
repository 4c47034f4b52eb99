"""Deadline engine on hand-computed cases, plus properties.

Every expected date below was counted by hand on a calendar; the comments show the count.
Day-based terms fall due at 23:59:59 local time of the office's region on the due day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.catalog import (
    DEFAULT_CALENDAR,
    Catalog,
    ChannelNotOffered,
    DeadlinePolicy,
    KazakhstanCalendar,
    NoExtensionAllowed,
    SlaNotDefined,
    Term,
    UnknownSubtype,
    add_term,
    application_due_at,
    clock_start,
    due_at,
    extended_due_at,
    forwarding_due_at,
    notification_due_at,
    resolve_term,
)
from shared.catalog.deadlines import forwarding_from
from shared.catalog.vocabulary import DayExclusion, DurationUnit

ALMATY = ZoneInfo("Asia/Almaty")  # UTC+6 until 2024-03-01, UTC+5 since
AKTOBE = ZoneInfo("Asia/Aqtobe")  # UTC+5


def local(text: str, tz: ZoneInfo = ALMATY) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


def end_of(day: str, tz: ZoneInfo = ALMATY) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(23, 59, 59), tzinfo=tz).astimezone(UTC)


def due(
    catalog: Catalog, service: str, edition: str, channel: str, start: datetime, subtype: str | None = None
) -> datetime:
    s = catalog.service(service)
    return due_at(s, s.edition(edition), channel, start, ALMATY, subtype)


# ----------------------------------------------------------------------------- the calendar


def test_holidays_package_represents_kazakh_transfers() -> None:
    calendar = KazakhstanCalendar()
    # 2025: Friday 3 Jan is a day off transferred from Sunday 5 Jan, which becomes a working day.
    assert not calendar.is_working_day(date(2025, 1, 3))
    assert calendar.day_off_name(date(2025, 1, 3)) == "Day off (substituted from 01/05/2025)"
    assert calendar.is_working_day(date(2025, 1, 5))
    # 2024: Wednesday 8 May off, Saturday 4 May worked.
    assert not calendar.is_working_day(date(2024, 5, 8)) and calendar.is_working_day(date(2024, 5, 4))
    # Holidays on weekends are observed on Monday (Nauryz 23 March 2024, a Saturday).
    assert not calendar.is_working_day(date(2024, 3, 25))
    assert calendar.is_working_day(date(2024, 3, 26))
    for day in ("2013-01-01", "2013-01-02", "2013-03-21", "2013-03-22", "2024-08-30"):
        assert not calendar.is_working_day(date.fromisoformat(day)), day


def test_local_corrections_override_the_package() -> None:
    calendar = KazakhstanCalendar(
        extra_days_off=[date(2024, 11, 18)], extra_working_days=[date(2024, 11, 16)]
    )
    assert not calendar.is_working_day(date(2024, 11, 18)) and calendar.is_working_day(date(2024, 11, 16))
    with pytest.raises(ValueError, match="both"):
        KazakhstanCalendar(extra_days_off=[date(2024, 1, 1)], extra_working_days=[date(2024, 1, 1)])


# ----------------------------------------------------------------------------- working days


def test_domain_example_seven_working_days_over_nauryz(catalog: Catalog) -> None:
    # Accepted Wed 20 Mar 2013. Thu 21, Fri 22 Nauryz, Sat 23 (Nauryz) + Sun, Mon 25 observed.
    # Counted: Tue 26, Wed 27, Thu 28, Fri 29, Mon 1, Tue 2, Wed 3 April.
    start = local("2013-03-20T10:00")
    got = due(catalog, "targeted_social_assistance", "akmola_2012_regulation", "department", start)
    assert got == end_of("2013-04-03")
    assert got.isoformat() == "2013-04-03T17:59:59+00:00"


def test_new_year_with_a_working_saturday(catalog: Catalog) -> None:
    # Accepted Thu 27 Dec 2012. Fri 28 (1), Sat 29 worked by decree (2); Mon 31 Dec is the day off
    # moved from that Saturday; 1-2 Jan New Year; Thu 3 (3), Fri 4 (4); Mon 7 Orthodox Christmas;
    # Tue 8 (5), Wed 9 (6), Thu 10 (7).
    start = local("2012-12-27T15:00")
    assert due(
        catalog, "targeted_social_assistance", "akmola_2012_regulation", "department", start
    ) == end_of("2013-01-10")


def test_transferred_day_off_and_moved_working_sunday() -> None:
    # Accepted Tue 31 Dec 2024. 1-2 Jan New Year, Fri 3 Jan day off moved from Sun 5 Jan, Sat 4 weekend,
    # Sun 5 Jan is a working day: the 1st working day; Mon 6 the 2nd.
    start = local("2024-12-31T12:00", AKTOBE)
    one = Term(1, DurationUnit.WORKING_DAYS)
    two = Term(2, DurationUnit.WORKING_DAYS)
    assert add_term(start, one, AKTOBE) == end_of("2025-01-05", AKTOBE)
    assert add_term(start, two, AKTOBE) == end_of("2025-01-06", AKTOBE)
    # Fri 3 May 2024: the next working day is Saturday 4 May (worked; its day off moved to Wed 8 May).
    assert add_term(local("2024-05-03T09:00", AKTOBE), one, AKTOBE) == end_of("2024-05-04", AKTOBE)


def test_constitution_day(catalog: Catalog) -> None:
    # MSE, 1 working day. Accepted Thu 29 Aug 2024; Fri 30 Aug Constitution Day; Mon 2 Sep.
    mse = catalog.service("disability_assessment_mse")
    start = local("2024-08-29T11:00")
    assert due_at(mse, mse.edition("kz_std_393_new_2012"), "mse_department", start, ALMATY) == end_of(
        "2024-09-02"
    )


def test_nauryz_2024_with_observed_monday(catalog: Catalog) -> None:
    # Accepted Wed 20 Mar 2024; 21-22 Nauryz, Sat 23 Nauryz (observed Mon 25), Sun 24: due Tue 26.
    mse = catalog.service("disability_assessment_mse")
    start = local("2024-03-20T11:00")
    assert due_at(mse, mse.edition("kz_std_393_new_2012"), "mse_department", start, ALMATY) == end_of(
        "2024-03-26"
    )


def test_friday_acceptance_day_not_counted_for_tson_forwarding(catalog: Catalog) -> None:
    # The ЦОН forwards within 1 working day, not counting the day of acceptance: Fri -> end of Monday.
    pension = catalog.service("basic_state_pension_payment")
    edition = pension.edition("kz_std_393_as_restated_2012")
    start = local("2024-11-15T17:00", AKTOBE)
    assert forwarding_due_at(pension, edition, "tson", start, AKTOBE) == end_of("2024-11-18", AKTOBE)
    assert (
        forwarding_due_at(pension, edition, "tson", start, AKTOBE).isoformat() == "2024-11-18T18:59:59+00:00"
    )
    with pytest.raises(SlaNotDefined, match="no forwarding term from channel 'pension_centre'"):
        forwarding_due_at(pension, edition, "pension_centre", start, AKTOBE)


def test_tson_excludes_acceptance_and_issue_day(catalog: Catalog) -> None:
    # Akmola ЦОН, 3 working days, neither the acceptance nor the issue day counted:
    # accepted Mon 12 Nov 2012, Tue-Thu are the 3 days, issued Friday 16 Nov.
    start = local("2012-11-12T10:00")
    assert due(catalog, "unemployed_certificate", "akmola_2011_regulation", "tson", start) == end_of(
        "2012-11-16"
    )


def test_notification_after_decision(catalog: Catalog) -> None:
    pension = catalog.service("basic_state_pension_payment")
    decided = local("2024-11-18T16:00", AKTOBE)  # Monday; 5 working days -> Monday 25 Nov
    got = notification_due_at(pension, pension.edition("kz_std_393_as_restated_2012"), decided, AKTOBE)
    assert got == end_of("2024-11-25", AKTOBE)


# ----------------------------------------------------------------------------- calendar days


def test_calendar_days_ending_on_a_weekend_roll_to_monday(catalog: Catalog) -> None:
    # Karaganda TSA via the department: 10 calendar days from Wed 3 Dec 2008 = Sat 13 Dec -> Mon 15 Dec.
    start = local("2008-12-03T12:00")
    assert due(catalog, "targeted_social_assistance", "krg_2008_standard", "department", start) == end_of(
        "2008-12-15"
    )


def test_per_channel_terms_department_vs_village_akim(catalog: Catalog) -> None:
    # Karaganda 2008: via the village akim 30 calendar days: Fri 2 Jan 2009 (New Year holiday),
    # Sat 3, Sun 4 -> Mon 5 Jan 2009; via the department 10 days (above).
    start = local("2008-12-03T12:00")
    assert due(catalog, "targeted_social_assistance", "krg_2008_standard", "village_akim", start) == end_of(
        "2009-01-05"
    )
    # Akmola 2012: 7 working days via the department, 22 via the village akim.
    # From Thu 1 Nov 2012: department Fri 2 (1), 5-9 Nov (2-6), Mon 12 (7).
    # Village akim: Fri 2 (1), four full weeks of November (2-21), then First President Day falls on
    # Sat 1 Dec and is observed on Mon 3 Dec, so the 22nd working day is Tue 4 Dec.
    start = local("2012-11-01T12:00")
    assert due(
        catalog, "targeted_social_assistance", "akmola_2012_regulation", "department", start
    ) == end_of("2012-11-12")
    assert due(
        catalog, "targeted_social_assistance", "akmola_2012_regulation", "village_akim", start
    ) == end_of("2012-12-04")


def test_new_year_calendar_days(catalog: Catalog) -> None:
    # 10 calendar days from Mon 22 Dec 2008 = Thu 1 Jan 2009; 1-2 Jan holidays, then a weekend -> Mon 5 Jan.
    start = local("2008-12-22T09:30")
    assert due(catalog, "child_benefit_under_18", "krg_2008_standard", "department", start) == end_of(
        "2009-01-05"
    )


def test_per_subtype_term(catalog: Catalog) -> None:
    # Hearing / vision aids: 15 calendar days, hygiene products 10. From Mon 2 Feb 2009.
    start = local("2009-02-02T10:00")
    service, edition = "hearing_vision_hygiene_aids_docs", "krg_2008_standard"
    assert due(catalog, service, edition, "department", start, "surdo_technical_means") == end_of(
        "2009-02-17"
    )
    assert due(catalog, service, edition, "department", start, "mandatory_hygiene_products") == end_of(
        "2009-02-12"
    )
    assert due(catalog, service, edition, "department", start) == end_of("2009-02-17")


def test_days_unspecified_policy(catalog: Catalog) -> None:
    # 15 "days" of unstated kind from Mon 2 Feb 2009: calendar (default) -> Tue 17 Feb;
    # with the policy set to working days -> Mon 23 Feb.
    service = catalog.service("medical_social_institution_docs")
    edition = service.edition("krg_2008_standard")
    start = local("2009-02-02T10:00")
    assert catalog.deadline_policy.days_unspecified_as == "calendar_days"
    assert due_at(service, edition, "department", start, ALMATY, policy=catalog.deadline_policy) == end_of(
        "2009-02-17"
    )
    working = DeadlinePolicy(days_unspecified_as="working_days")
    assert due_at(service, edition, "department", start, ALMATY, policy=working) == end_of("2009-02-23")


def test_counting_the_acceptance_day_is_a_policy(catalog: Catalog) -> None:
    start = local("2008-12-03T12:00")
    counting = DeadlinePolicy(count_acceptance_day=True)
    ten = Term(10, DurationUnit.CALENDAR_DAYS)
    assert add_term(start, ten, ALMATY, policy=counting) == end_of("2008-12-12")  # Wed 3 is day 1
    excluded = Term(10, DurationUnit.CALENDAR_DAYS, frozenset({DayExclusion.ACCEPTANCE_DAY}))
    assert add_term(start, excluded, ALMATY, policy=counting) == end_of("2008-12-15")


# ----------------------------------------------------------------------------- minutes, extensions, errors


def test_minute_terms_are_elapsed_time(catalog: Catalog) -> None:
    start = local("2012-11-12T10:03")
    assert due(
        catalog, "unemployed_certificate", "akmola_2011_regulation", "department", start
    ) == start + timedelta(minutes=10)
    sic = catalog.service("social_individual_code")
    got = due_at(sic, sic.edition("kz_std_393_new_2012"), "egov_portal", local("2013-03-21T13:55"), ALMATY)
    assert got == local("2013-03-21T14:10").astimezone(UTC)
    assert got.tzinfo is UTC


def test_extensions(catalog: Catalog) -> None:
    mse = catalog.service("disability_assessment_mse")
    edition = mse.edition("kz_std_393_new_2012")
    # 10 working days from Mon 2 Sep 2024 -> Mon 16 Sep.
    assert extended_due_at(mse, edition, "mse_department", local("2024-09-02T10:00"), ALMATY) == end_of(
        "2024-09-16"
    )
    semey = catalog.service("semipalatinsk_victim_registration")
    # At most one month from Mon 2 Mar 2009 -> Thu 2 Apr 2009.
    got = extended_due_at(
        semey, semey.edition("krg_2008_standard"), "department", local("2009-03-02T10:00"), ALMATY
    )
    assert got == end_of("2009-04-02")
    tsa = catalog.service("targeted_social_assistance")
    with pytest.raises(NoExtensionAllowed):
        extended_due_at(
            tsa, tsa.edition("krg_2008_standard"), "department", local("2009-03-02T10:00"), ALMATY
        )


def test_refusals(catalog: Catalog) -> None:
    start = local("2013-03-20T10:00")
    tsa = catalog.service("targeted_social_assistance")
    with pytest.raises(SlaNotDefined, match="only an amendment"):
        due_at(tsa, tsa.edition("kz_std_394_as_amended_2012"), "department", start, ALMATY)
    with pytest.raises(SlaNotDefined, match="para 7 of standard 394"):
        due_at(tsa, tsa.edition("almaty_2012_regulation"), "department", start, ALMATY)
    with pytest.raises(ChannelNotOffered):
        due_at(tsa, tsa.edition("krg_2008_standard"), "tson", start, ALMATY)
    with pytest.raises(UnknownSubtype):
        due_at(tsa, tsa.edition("krg_2008_standard"), "department", start, ALMATY, "surdo")
    psf = catalog.service("personal_subsidiary_farm_certificate")
    with pytest.raises(SlaNotDefined, match="channel 'village_akim'"):
        due_at(psf, psf.edition("kz_std_2011"), "village_akim", start, ALMATY)
    assert resolve_term(psf, psf.edition("kz_std_2011"), "tson").term == Term(
        2, DurationUnit.DAYS_UNSPECIFIED
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        due_at(tsa, tsa.edition("krg_2008_standard"), "department", datetime(2009, 1, 1), ALMATY)
    with pytest.raises(ValueError, match="not the catalog's edition"):
        due_at(
            tsa,
            catalog.service("child_benefit_under_18").edition("krg_2008_standard"),
            "department",
            start,
            ALMATY,
        )


def test_time_zones_decide_the_day(catalog: Catalog) -> None:
    # 18:30 UTC on Tue 19 Mar 2013 is already Wed 20 Mar 00:30 in Almaty (UTC+6) but still
    # Tue 19 Mar 23:30 in Aktobe (UTC+5). One working day later: Aktobe Wed 20; Almaty, after
    # Nauryz (Thu 21 - Sat 23, observed Mon 25), Tue 26.
    start = datetime(2013, 3, 19, 18, 30, tzinfo=UTC)
    one = Term(1, DurationUnit.WORKING_DAYS)
    assert add_term(start, one, ALMATY) == end_of("2013-03-26")
    assert add_term(start, one, AKTOBE) == end_of("2013-03-20", AKTOBE)


# ----------------------------------------------------------------------------- properties

ZONES = [ZoneInfo(z) for z in ("Asia/Almaty", "Asia/Aqtobe", "Asia/Qostanay", "Asia/Oral", "Asia/Qyzylorda")]
UNITS = [
    DurationUnit.CALENDAR_DAYS,
    DurationUnit.WORKING_DAYS,
    DurationUnit.DAYS_UNSPECIFIED,
    DurationUnit.MINUTES,
    DurationUnit.HOURS,
    DurationUnit.MONTHS,
]
starts = st.datetimes(
    min_value=datetime(2008, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)
excludes = st.frozensets(st.sampled_from(list(DayExclusion)))
policies = st.builds(
    DeadlinePolicy,
    days_unspecified_as=st.sampled_from(["calendar_days", "working_days"]),
    count_acceptance_day=st.booleans(),
    roll_to_next_working_day=st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(
    start=starts,
    amount=st.integers(0, 120),
    unit=st.sampled_from(UNITS),
    tz=st.sampled_from(ZONES),
    ex=excludes,
    policy=policies,
)
def test_due_is_never_before_start(
    start: datetime,
    amount: int,
    unit: DurationUnit,
    tz: ZoneInfo,
    ex: frozenset[DayExclusion],
    policy: DeadlinePolicy,
) -> None:
    got = add_term(start, Term(amount, unit, ex), tz, policy=policy)
    assert got >= start
    assert got.tzinfo is UTC


@settings(max_examples=150, deadline=None)
@given(
    start=starts,
    amount=st.integers(0, 120),
    extra=st.integers(1, 40),
    unit=st.sampled_from(UNITS),
    tz=st.sampled_from(ZONES),
    ex=excludes,
    policy=policies,
)
def test_more_days_never_give_an_earlier_due_time(
    start: datetime,
    amount: int,
    extra: int,
    unit: DurationUnit,
    tz: ZoneInfo,
    ex: frozenset[DayExclusion],
    policy: DeadlinePolicy,
) -> None:
    shorter = add_term(start, Term(amount, unit, ex), tz, policy=policy)
    longer = add_term(start, Term(amount + extra, unit, ex), tz, policy=policy)
    assert longer >= shorter


@settings(max_examples=100, deadline=None)
@given(start=starts, amount=st.integers(1, 60), tz=st.sampled_from(ZONES))
def test_working_day_terms_end_on_working_days(start: datetime, amount: int, tz: ZoneInfo) -> None:
    got = add_term(start, Term(amount, DurationUnit.WORKING_DAYS), tz)
    local_due = got.astimezone(tz)
    assert DEFAULT_CALENDAR.is_working_day(local_due.date())
    assert local_due.time() == time(23, 59, 59)


# ----------------------------------------------------------------------------- ЦОН forwarding
# The standards of 004 (para 7.1, e.g. L548-550) give the ЦОН 1 working day to forward the
# documents with a transmittal to the ГЦВП branch, the day of acceptance not counted, and run the
# service term from the branch's registration: counted from the day after the forwarding day.


def _app_due(catalog: Catalog, service: str, channel: str, start: datetime) -> datetime:
    s = catalog.service(service)
    return application_due_at(s, s.editions[0], channel, start, ALMATY)


def test_tson_acceptance_before_nauryz_runs_ten_working_days_from_the_branch_registration(
    catalog: Catalog,
) -> None:
    # ЦОН accepts Wed 19 Mar 2025; forwards by Thu 20 Mar (the branch registers it that day).
    # Fri 21 - Tue 25 Mar are days off (Nauryz 21-23 and the transferred 24, 25).
    # 10 working days from Wed 26: 26, 27, 28, 31 Mar, 1, 2, 3, 4, 7, 8 Apr -> Tue 8 April.
    start = local("2025-03-19T10:00")
    assert _app_due(catalog, "basic_state_pension_payment", "tson", start) == end_of("2025-04-08")
    # Counting from the acceptance itself gave Mon 7 April: a working day early.
    pension = catalog.service("basic_state_pension_payment")
    assert due(catalog, pension.id, pension.editions[0].id, "tson", start) == end_of("2025-04-07")
    # At the branch itself the application is registered on acceptance: Mon 7 April.
    assert _app_due(catalog, "basic_state_pension_payment", "pension_centre", start) == end_of("2025-04-07")


def test_tson_acceptance_on_a_friday_forwards_on_monday(catalog: Catalog) -> None:
    # ЦОН accepts Fri 13 Jun 2025; forwards by Mon 16 Jun; 10 working days from Tue 17:
    # 17, 18, 19, 20, 23, 24, 25, 26, 27, 30 Jun -> Mon 30 June (was Fri 27 June).
    start = local("2025-06-13T17:30")
    assert _app_due(catalog, "basic_state_pension_payment", "tson", start) == end_of("2025-06-30")
    assert clock_start(
        catalog.service("basic_state_pension_payment"),
        catalog.service("basic_state_pension_payment").editions[0],
        "tson",
        start,
        ALMATY,
    ) == end_of("2025-06-16")


def test_social_insurance_from_the_tson_over_the_may_holidays(catalog: Catalog) -> None:
    # ЦОН accepts Wed 30 Apr 2025; Thu 1 May is a holiday, so it forwards by Fri 2 May.
    # 15 working days from Mon 5 May, skipping Wed 7 and Fri 9 May: 5, 6, 8, 12, 13, 14, 15, 16,
    # 19, 20, 21, 22, 23, 26, 27 -> Tue 27 May (was Mon 26 May).
    start = local("2025-04-30T16:00")
    assert _app_due(catalog, "social_insurance_payments", "tson", start) == end_of("2025-05-27")


def test_mobile_tson_forwards_on_the_same_term(catalog: Catalog) -> None:
    # A mobile ЦОН accepts Fri 13 Dec 2024; Mon 16 Dec is Independence Day, so it forwards by
    # Tue 17 Dec; 10 working days from Wed 18: 18, 19, 20, 23, 24, 25, 26, 27, 30, 31 -> Tue 31 Dec.
    start = local("2024-12-13T11:00")
    assert _app_due(catalog, "disabled_child_carer_allowance", "mobile_tson", start) == end_of("2024-12-31")


def test_every_service_whose_term_starts_at_the_branch_has_a_cited_forwarding_term(catalog: Catalog) -> None:
    forwarded = set()
    for service in catalog.services:
        for edition in service.editions:
            if edition.sla is None or edition.sla.starts_at != "registered_at_branch":
                continue
            for channel in set(edition.channels) & {"tson", "mobile_tson"}:
                step = forwarding_from(edition, channel)
                assert step is not None and step.max == 1 and step.unit == "working_days", service.id
                assert step.excludes == (DayExclusion.ACCEPTANCE_DAY,) and step.source, service.id
                forwarded.add(service.id)
    assert forwarded == {
        "basic_state_pension_payment",
        "state_social_benefits_disability_survivor_age",
        "state_special_benefits_hazardous_work",
        "social_insurance_payments",
        "childbirth_and_childcare_benefits",
        "special_state_benefit",
        "disabled_child_carer_allowance",
    }


def test_a_term_set_by_a_parameter(catalog: Catalog) -> None:
    housing = catalog.service("housing_assistance")
    edition = housing.editions[0]
    with pytest.raises(SlaNotDefined, match="housing_assistance_term"):
        application_due_at(housing, edition, "department", local("2025-06-04T10:00"), ALMATY)
    # A district's term of 10 working days from Wed 4 Jun 2025: 5, 9 (Fri 6 Jun is Kurban Ait),
    # 10, 11, 12, 13, 16, 17, 18, 19 -> Thu 19 June.
    got = application_due_at(
        housing,
        edition,
        "department",
        local("2025-06-04T10:00"),
        ALMATY,
        term_parameter=lambda _: Term(10, DurationUnit.WORKING_DAYS),
    )
    assert got == end_of("2025-06-19")
