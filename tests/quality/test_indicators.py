"""The indicators on generated logs with known answers (pure: no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from shared.quality.computation import QualityComputation
from shared.quality.facts import (
    ComplaintAnswer,
    ComplaintFiled,
    ComplaintTermExtended,
    Decision,
    Fact,
    IntakeRefusal,
    Rework,
    Submission,
)
from shared.quality.periods import NATIONAL_ZONE, PeriodGrid, Split
from tests.quality.known_log import END, OFFICE, REGION, SERVICE, START, as_facts, known_log

ALMATY = ZoneInfo("Asia/Almaty")


def _zone(region: str | None) -> ZoneInfo:
    return ALMATY if region else NATIONAL_ZONE


Figures = dict[tuple[str, ...], tuple[int, int]]


def figures(
    facts: list[Fact], grid: PeriodGrid | None = None, office: str | None = None, service: str | None = None
) -> Figures:
    computation = QualityComputation(grid or PeriodGrid(START, END), _zone, office=office, service=service)
    computation.feed_all(facts)
    return {
        (f.key[0], f.key[1], f.key[2].label, f.indicator.id): (f.numerator, f.denominator)
        for f in computation.figures()
    }


def test_the_known_log_gives_the_known_figures() -> None:
    got = figures(as_facts(known_log()))
    period = f"{START}..{END}"
    assert got == {
        (SERVICE, OFFICE, period, "on_time"): (95, 100),
        (SERVICE, OFFICE, period, "first_time_right"): (80, 100),
        (SERVICE, OFFICE, period, "justified_complaints_share"): (4, 100),
        (SERVICE, OFFICE, period, "justified_complaints_resolved_in_term"): (3, 4),
        (SERVICE, OFFICE, period, "complaints_reviewed_in_term"): (8, 11),
    }


def test_a_decision_without_a_term_is_left_out_and_noted() -> None:
    computation = QualityComputation(PeriodGrid(START, END), _zone)
    computation.feed_all(as_facts(known_log()))
    on_time = next(f for f in computation.figures() if f.indicator.id == "on_time")
    assert on_time.note == "1 decision(s) without a computable term not counted"
    assert on_time.editions == {"krg_2008_standard"} and on_time.regions == {REGION}


def test_offices_are_apart_and_the_office_filter_keeps_one() -> None:
    facts = as_facts(known_log()) + as_facts(known_log(offset=500, office="karaganda-tson-01"))
    both = figures(facts)
    assert both[(SERVICE, "karaganda-tson-01", f"{START}..{END}", "on_time")] == (95, 100)
    assert both[(SERVICE, OFFICE, f"{START}..{END}", "justified_complaints_share")] == (4, 100)
    only = figures(facts, office="karaganda-tson-01")
    assert {key[1] for key in only} == {"karaganda-tson-01"}
    assert figures(facts, service="housing_assistance") == {}


def test_the_period_is_whole_local_days() -> None:
    # 2009-03-31 20:00 UTC is already 1 April in Karaganda (UTC+6 then): outside March.
    late = datetime(2009, 3, 31, 20, 0, tzinfo=UTC)
    early = datetime(2009, 2, 28, 19, 0, tzinfo=UTC)  # 1 March, 01:00 local: inside
    decisions: list[Fact] = [
        Decision("a1", SERVICE, OFFICE, REGION, None, late, late, "k1"),
        Decision("a2", SERVICE, OFFICE, REGION, None, early, early, "k2"),
    ]
    assert figures(decisions)[(SERVICE, OFFICE, f"{START}..{END}", "on_time")] == (1, 1)


def test_monthly_periods_split_the_range() -> None:
    jan = datetime(2009, 1, 15, 6, tzinfo=UTC)
    feb = datetime(2009, 2, 15, 6, tzinfo=UTC)
    decisions: list[Fact] = [
        Decision("a1", SERVICE, OFFICE, REGION, None, jan, jan + timedelta(days=1), "k1"),
        Decision("a2", SERVICE, OFFICE, REGION, None, feb, feb - timedelta(days=1), "k2"),
        Decision("a3", SERVICE, OFFICE, REGION, None, feb, feb + timedelta(days=1), "k3"),
    ]
    got = figures(decisions, PeriodGrid(date(2009, 1, 1), date(2009, 3, 31), Split.MONTH))
    assert got[(SERVICE, OFFICE, "2009-01-01..2009-01-31", "on_time")] == (1, 1)
    assert got[(SERVICE, OFFICE, "2009-02-01..2009-02-28", "on_time")] == (1, 2)
    quarters = PeriodGrid(date(2009, 2, 10), date(2009, 11, 5), Split.QUARTER)
    assert [(p.start.isoformat(), p.end.isoformat()) for p in quarters.periods] == [
        ("2009-02-10", "2009-03-31"),
        ("2009-04-01", "2009-06-30"),
        ("2009-07-01", "2009-09-30"),
        ("2009-10-01", "2009-11-05"),
    ]


def test_a_refusal_counts_against_the_next_acceptance_only() -> None:
    at = datetime(2009, 3, 2, 6, tzinfo=UTC)
    facts: list[Fact] = [
        IntakeRefusal(SERVICE, OFFICE, at, "p1"),
        IntakeRefusal(SERVICE, OFFICE, at, None),  # malformed: no applicant, matches nobody
        IntakeRefusal("housing_assistance", OFFICE, at, "p2"),  # another service
        Submission("a1", SERVICE, OFFICE, REGION, None, at + timedelta(hours=1), "p1"),
        Submission("a2", SERVICE, OFFICE, REGION, None, at + timedelta(days=40), "p1"),  # April
        Submission("a3", SERVICE, OFFICE, REGION, None, at + timedelta(hours=2), "p2"),
        Submission("a4", SERVICE, OFFICE, REGION, None, at + timedelta(hours=3), None),
        Rework("a4", "documents_incomplete"),
        Rework("a4", "returned_for_rework"),  # a second sign does not count twice
        Rework("unknown", "documents_supplemented"),
    ]
    got = figures(facts, PeriodGrid(date(2009, 3, 1), date(2009, 4, 30), Split.MONTH))
    assert got[(SERVICE, OFFICE, "2009-03-01..2009-03-31", "first_time_right")] == (1, 3)
    assert got[(SERVICE, OFFICE, "2009-04-01..2009-04-30", "first_time_right")] == (1, 1)


def test_applicants_served_are_distinct_and_complaints_without_a_service_stand_apart() -> None:
    at = datetime(2009, 3, 10, 6, tzinfo=UTC)
    facts: list[Fact] = [
        Decision("a1", SERVICE, OFFICE, REGION, None, at, at, "p1"),
        Decision("a2", SERVICE, OFFICE, REGION, None, at, at, "p1"),
        Decision("a3", SERVICE, OFFICE, REGION, None, at, at, None),
        ComplaintAnswer("c1", SERVICE, OFFICE, REGION, "partly_upheld", at, True),
        ComplaintAnswer("c2", None, OFFICE, None, "upheld", at, False),
    ]
    got = figures(facts)
    period = f"{START}..{END}"
    assert got[(SERVICE, OFFICE, period, "justified_complaints_share")] == (1, 2)
    assert got[("unspecified", OFFICE, period, "justified_complaints_share")] == (1, 0)
    assert got[("unspecified", OFFICE, period, "justified_complaints_resolved_in_term")] == (0, 1)


def test_complaints_count_by_the_last_day_of_their_term() -> None:
    at = datetime(2009, 3, 10, 6, tzinfo=UTC)
    facts: list[Fact] = [
        ComplaintFiled("c1", SERVICE, OFFICE, REGION, date(2009, 3, 25)),
        ComplaintTermExtended("c1", date(2009, 4, 8)),  # extended into April
        ComplaintAnswer("c1", SERVICE, OFFICE, REGION, "rejected", at, True),
        ComplaintFiled("c2", SERVICE, OFFICE, REGION, date(2009, 3, 5)),  # unanswered, term over
        ComplaintFiled("c3", SERVICE, OFFICE, REGION, date(2009, 4, 20)),  # unanswered, term running
        ComplaintAnswer("c4", SERVICE, OFFICE, REGION, "upheld", at, False),  # registration not in the log
        ComplaintFiled("c5", None, OFFICE, None, date(2009, 3, 6)),
        ComplaintAnswer("c5", None, OFFICE, None, "rejected", at, True),
    ]
    computation = QualityComputation(
        PeriodGrid(date(2009, 3, 1), date(2009, 4, 30), Split.MONTH), _zone, today=date(2009, 4, 15)
    )
    computation.feed_all(facts)
    got = {
        (f.key[0], f.key[2].start.month): (f.numerator, f.denominator, f.note)
        for f in computation.figures()
        if f.indicator.id == "complaints_reviewed_in_term"
    }
    assert got[(SERVICE, 3)] == (0, 2, "1 unanswered with the term over (counted as late)")
    assert got[(SERVICE, 4)] == (1, 1, "1 unanswered within their term not counted")
    assert got[("unspecified", 3)] == (1, 1, None)
    only_april = QualityComputation(PeriodGrid(date(2009, 4, 1), date(2009, 4, 30)), _zone, office="other")
    only_april.feed_all(facts)
    assert list(only_april.figures()) == []
