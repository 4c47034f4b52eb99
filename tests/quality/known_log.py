"""A generated event log whose quality figures are known in advance.

One office of Karaganda, targeted social assistance under the Karaganda 2008 standard (profile
krg_q4: on time 95 %, first time right 90 %, justified complaints 0.1 %, in term 100 %), March
2009. The figures the report must give:
- on_time 95 of 100 (a 101st decision has no computable term: left out, noted);
- first_time_right 80 of 100 (10 refused first, 5 supplemented, 3 incomplete, 2 returned);
- justified_complaints_share 4 of 100 applicants served (4.00 %);
- justified_complaints_resolved_in_term 3 of 4 (75.00 %);
- complaints_reviewed_in_term 8 of 11 (72.73 %): 10 answered, 2 of them late, and one still
  unanswered although its term ended on 20 March (one answered complaint's term was extended).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from shared.quality.facts import (
    ComplaintAnswer,
    ComplaintFiled,
    ComplaintTermExtended,
    Decision,
    Fact,
    IntakeRefusal,
    Rework,
    ReworkKind,
    Submission,
)

SERVICE = "targeted_social_assistance"
EDITION = "krg_2008_standard"
OFFICE = "karaganda-dept-01"
REGION = "karaganda"
START, END = date(2009, 3, 1), date(2009, 3, 31)
DAY = datetime(2009, 3, 2, 6, 0, tzinfo=UTC)
"""Noon in Karaganda (UTC+6 in 2009)."""


@dataclass
class KnownLog:
    refusals: list[tuple[str, datetime]] = field(default_factory=list)
    """(applicant IIN, when)."""
    submissions: list[tuple[str, str, datetime]] = field(default_factory=list)
    """(application id, applicant IIN, received at)."""
    reworks: list[tuple[str, ReworkKind, datetime]] = field(default_factory=list)
    decisions: list[tuple[str, datetime, datetime | None]] = field(default_factory=list)
    """(application id, decided at, due at)."""
    complaints: list[tuple[str, str, str, datetime, bool, date, date]] = field(default_factory=list)
    """(complaint id, application id, outcome, resolved at, on time, first due day, due day)."""
    open_complaints: list[tuple[str, str, date]] = field(default_factory=list)
    """(complaint id, application id, due day): registered, never answered."""
    office: str = OFFICE


def iin(n: int) -> str:
    return f"8504123{n:05d}"


def known_log(offset: int = 0, office: str = OFFICE) -> KnownLog:
    """The log of the module docstring; `offset` shifts the applicant numbers (another office)."""
    log = KnownLog(office=office)
    supplemented: list[ReworkKind] = ["documents_supplemented"] * 5
    incomplete: list[ReworkKind] = ["documents_incomplete"] * 3
    returned: list[ReworkKind] = ["returned_for_rework"] * 2
    kinds = supplemented + incomplete + returned
    for n in range(100):
        person, app = iin(offset + n), f"app-{office}-{n:03d}"
        received = DAY + timedelta(hours=n % 8, days=n % 20)
        if n < 10:
            log.refusals.append((person, received - timedelta(days=1)))
        log.submissions.append((app, person, received))
        if 10 <= n < 20:
            log.reworks.append((app, kinds[n - 10], received + timedelta(days=1)))
        due = received + timedelta(days=5)
        decided = due - timedelta(hours=2) if n < 95 else due + timedelta(hours=2)
        log.decisions.append((app, decided, due))
    first = log.submissions[0]
    log.decisions.append((first[0], first[2] + timedelta(days=6), None))
    outcomes = ["upheld", "partly_upheld", "upheld", "partly_upheld"] + ["rejected"] * 6
    in_term = [True, True, True, False, True, True, True, True, True, False]
    for n, (outcome, on_time) in enumerate(zip(outcomes, in_term, strict=True)):
        app, _, received = log.submissions[20 + n]
        resolved = received + timedelta(days=7)
        due_day = resolved.date() + timedelta(days=3 if on_time else -2)
        first_due = resolved.date() - timedelta(days=1) if n == 0 else due_day
        log.complaints.append((f"c-{office}-{n}", app, outcome, resolved, on_time, first_due, due_day))
    log.open_complaints.append((f"c-{office}-open", log.submissions[30][0], date(2009, 3, 20)))
    return log


def as_facts(log: KnownLog, key: str = "k:") -> list[Fact]:
    """The log as the reader gives it: intake's facts first (in time order), then decisions',
    then complaints'."""
    intake: list[tuple[datetime, Fact]] = []
    for person, at in log.refusals:
        intake.append((at, IntakeRefusal(SERVICE, log.office, at, key + person)))
    for app, person, at in log.submissions:
        intake.append((at, Submission(app, SERVICE, log.office, REGION, EDITION, at, key + person)))
    applicant = {app: key + person for app, person, _ in log.submissions}
    for app, kind, at in log.reworks:
        if kind == "documents_supplemented":
            intake.append((at, Rework(app, kind)))
    decision: list[Fact] = [
        Rework(app, kind) for app, kind, _ in log.reworks if kind != "documents_supplemented"
    ]
    decision += [
        Decision(app, SERVICE, log.office, REGION, EDITION, decided, due, applicant[app])
        for app, decided, due in log.decisions
    ]
    complaints: list[Fact] = []
    for cid, _, outcome, at, on_time, first_due, due in log.complaints:
        complaints.append(ComplaintFiled(cid, SERVICE, log.office, REGION, first_due))
        if due != first_due:
            complaints.append(ComplaintTermExtended(cid, due))
        complaints.append(ComplaintAnswer(cid, SERVICE, log.office, REGION, outcome, at, on_time))
    for cid, _, due in log.open_complaints:
        complaints.append(ComplaintFiled(cid, SERVICE, log.office, REGION, due))
    return [fact for _, fact in sorted(intake, key=lambda pair: pair[0])] + decision + complaints
