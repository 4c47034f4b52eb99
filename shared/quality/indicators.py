"""The quality indicators the event log can give, each defined exactly, and those it cannot.

Each computed indicator is one class: which facts it counts, per group (service, office,
period), as numerator ÷ denominator. Ids are the catalog's (`quality_indicator_profiles`, stable
across profiles; DOMAIN.md §10 gives the formulas); `complaints_reviewed_in_term` is not a
catalog indicator (the catalog's 4.2 counts justified complaints only) and has no target.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import ClassVar, Literal

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
from shared.quality.periods import Period

GroupKey = tuple[str, str, Period]
"""(service id, office id, period)."""
Better = Literal["higher", "lower"]
Place = Callable[[str | None, str, str | None, date], "GroupKey | None"]
"""(service, office, region, local day) -> the group, or None outside the report."""


@dataclass
class Tally:
    numerator: int = 0
    denominator: int = 0
    not_counted: int = 0
    """Facts of the group left out of both (e.g. decisions without a computable term)."""
    overdue: int = 0
    """Cases counted as late because they are still open past their term."""


class Indicator:
    id: ClassVar[str]
    name_en: ClassVar[str]
    better: ClassVar[Better] = "higher"
    in_catalog: ClassVar[bool] = True
    reads: ClassVar[tuple[type, ...]]
    """The kinds of fact `feed` counts (the computation passes it no other)."""

    def __init__(self) -> None:
        self._tallies: dict[GroupKey, Tally] = defaultdict(Tally)

    def feed(self, fact: Fact, key: GroupKey | None) -> None:
        """Count `fact`; `key` is its group, None when it is outside the report (period,
        office or service filter) or has no group of its own."""
        raise NotImplementedError

    def tally(self, key: GroupKey) -> Tally:
        return self._tallies.get(key) or Tally()

    def bind(self, place: Place) -> None:
        """How the computation places a fact by a day of its own (a due date)."""

    def finish(self, today: date) -> None:
        """Count what only the end of the log settles (`today`: the report's local day)."""

    def note(self, tally: Tally) -> str | None:
        return None


class OnTime(Indicator):
    """Catalog `on_time` ("share of cases served within the set term from document submission",
    row 1.1 of every profile). Numerator: `DecisionMade` events whose local decision day lies in
    the period and whose `decided_at` is at or before their `due_at`. Denominator: `DecisionMade`
    events in the period that have a `due_at`. `due_at` is the term in force when the decision was
    made: a `TermExtended` or an `ApplicationReopened` moved it. A decision without a computable
    term (`due_at` null) is left out of both and counted in the note. A reopened case decided again
    counts once per decision."""

    id = "on_time"
    name_en = "Share of cases served within the set term"
    reads = (Decision,)

    def feed(self, fact: Fact, key: GroupKey | None) -> None:
        if not isinstance(fact, Decision) or key is None:
            return
        tally = self._tallies[key]
        if fact.due_at is None:
            tally.not_counted += 1
            return
        tally.denominator += 1
        if fact.decided_at <= fact.due_at:
            tally.numerator += 1

    def note(self, tally: Tally) -> str | None:
        if tally.not_counted:
            return f"{tally.not_counted} decision(s) without a computable term not counted"
        return None


class FirstTimeRight(Indicator):
    """Catalog `first_time_right` ("share of cases where the consumer filled in documents correctly
    and submitted them the first time", row 3.2). Denominator: applications accepted at intake
    (`ApplicationSubmitted`) whose local day of `received_at` lies in the period. Numerator: those
    of them (a) not preceded, in intake's log, by an `ApplicationRejectedAtIntake` of the same
    applicant for the same service since that applicant's previous accepted application for it,
    and (b) never followed by `DocumentsSupplemented`, `DocumentsChecked{complete: false}` or
    `DecisionReturnedForRework` (DOMAIN.md §10 counts a return for rework too). A refusal that
    could not name the applicant (malformed submission) cannot be matched and is not counted.

    Facts must come in log order, intake's before decision's (the reader does so)."""

    id = "first_time_right"
    name_en = "Share of cases with documents right the first time"
    reads = (IntakeRefusal, Submission, Rework)

    def __init__(self) -> None:
        super().__init__()
        self._refused: dict[tuple[str, str], int] = {}
        """Refusals not yet followed by an acceptance, per (applicant key, service)."""
        self._right: dict[str, GroupKey] = {}
        """Applications in the report still counted as right the first time."""

    def feed(self, fact: Fact, key: GroupKey | None) -> None:
        if isinstance(fact, IntakeRefusal):
            if fact.applicant_key is not None:
                slot = (fact.applicant_key, fact.service_id)
                self._refused[slot] = self._refused.get(slot, 0) + 1
        elif isinstance(fact, Submission):
            refused = 0
            if fact.applicant_key is not None:
                refused = self._refused.pop((fact.applicant_key, fact.service_id), 0)
            if key is None:
                return
            tally = self._tallies[key]
            tally.denominator += 1
            if not refused:
                tally.numerator += 1
                self._right[fact.application_id] = key
        elif isinstance(fact, Rework):
            right_in = self._right.pop(fact.application_id, None)
            if right_in is not None:
                self._tallies[right_in].numerator -= 1


class JustifiedComplaintsShare(Indicator):
    """Catalog `justified_complaints_share` ("justified complaints as a share of all consumers
    served", row 4.1; lower is better). Numerator: `ComplaintResolved` events whose local day of
    `resolved_at` lies in the period with outcome upheld or partly upheld, grouped by the contested
    service and office. Denominator: distinct applicants with a `DecisionMade` in the period, same
    service and office (the applicant from intake's `ApplicationSubmitted`; a decision whose
    application intake does not know counts as its own applicant)."""

    id = "justified_complaints_share"
    name_en = "Justified complaints as a share of consumers served"
    better = "lower"
    reads = (Decision, ComplaintAnswer)

    def __init__(self) -> None:
        super().__init__()
        self._served: dict[GroupKey, set[str]] = defaultdict(set)

    def feed(self, fact: Fact, key: GroupKey | None) -> None:
        if key is None:
            return
        if isinstance(fact, Decision):
            self._served[key].add(fact.applicant_key or f"application:{fact.application_id}")
        elif isinstance(fact, ComplaintAnswer) and fact.justified:
            self._tallies[key].numerator += 1

    def tally(self, key: GroupKey) -> Tally:
        found = self._tallies.get(key)
        return Tally(found.numerator if found else 0, len(self._served.get(key, ())))


class JustifiedComplaintsResolvedInTerm(Indicator):
    """Catalog `justified_complaints_resolved_in_term` ("share of justified complaints reviewed and
    satisfied within the set term", row 4.2). Denominator: justified complaints (upheld or partly
    upheld) answered in the period (local day of `resolved_at`). Numerator: those answered within
    their review term (`ComplaintResolved.on_time`: no later than the term in force, a
    `ComplaintReviewExtended` included)."""

    id = "justified_complaints_resolved_in_term"
    name_en = "Share of justified complaints resolved within the term"
    reads = (ComplaintAnswer,)

    def feed(self, fact: Fact, key: GroupKey | None) -> None:
        if isinstance(fact, ComplaintAnswer) and fact.justified and key is not None:
            tally = self._tallies[key]
            tally.denominator += 1
            tally.numerator += fact.on_time


class ComplaintsReviewedInTerm(Indicator):
    """Not a catalog indicator (no target; the catalog's 4.2 counts justified complaints only):
    every complaint, whatever its outcome, by the last day of its review term
    (`ComplaintRegistered.review_due_on`, moved by `ComplaintReviewExtended`) falling in the
    period. Denominator: those answered (`ComplaintResolved`) and those still unanswered when the
    report is made although their term is over (counted as late). Numerator: those answered within
    their term (`ComplaintResolved.on_time`). An unanswered complaint whose term has not ended is
    left out and noted; an answer whose registration is not in the log counts by its answer day."""

    id = "complaints_reviewed_in_term"
    name_en = "Share of complaints reviewed within the review term"
    in_catalog = False
    reads = (ComplaintFiled, ComplaintTermExtended, ComplaintAnswer)

    def __init__(self) -> None:
        super().__init__()
        self._open: dict[str, ComplaintFiled] = {}
        self._overdue: dict[GroupKey, int] = defaultdict(int)
        self._place: Place = lambda service, office, region, day: None

    def bind(self, place: Place) -> None:
        self._place = place

    def _group(self, filed: ComplaintFiled) -> GroupKey | None:
        return self._place(filed.service_id, filed.office_id, filed.region, filed.review_due_on)

    def feed(self, fact: Fact, key: GroupKey | None) -> None:
        if isinstance(fact, ComplaintFiled):
            self._open[fact.complaint_id] = fact
        elif isinstance(fact, ComplaintTermExtended):
            filed = self._open.get(fact.complaint_id)
            if filed is not None:
                self._open[fact.complaint_id] = replace(filed, review_due_on=fact.review_due_on)
        elif isinstance(fact, ComplaintAnswer):
            filed = self._open.pop(fact.complaint_id, None)
            group = key if filed is None else self._group(filed)
            if group is not None:
                tally = self._tallies[group]
                tally.denominator += 1
                tally.numerator += fact.on_time

    def finish(self, today: date) -> None:
        for filed in self._open.values():
            group = self._group(filed)
            if group is None:
                continue
            tally = self._tallies[group]
            if filed.review_due_on < today:
                tally.denominator += 1
                self._overdue[group] += 1
            else:
                tally.not_counted += 1
        self._open.clear()

    def tally(self, key: GroupKey) -> Tally:
        found = super().tally(key)
        return Tally(found.numerator, found.denominator, found.not_counted, self._overdue.get(key, 0))

    def note(self, tally: Tally) -> str | None:
        notes = []
        if tally.overdue:
            notes.append(f"{tally.overdue} unanswered with the term over (counted as late)")
        if tally.not_counted:
            notes.append(f"{tally.not_counted} unanswered within their term not counted")
        return "; ".join(notes) or None


COMPUTED: tuple[type[Indicator], ...] = (
    OnTime,
    FirstTimeRight,
    JustifiedComplaintsShare,
    JustifiedComplaintsResolvedInTerm,
    ComplaintsReviewedInTerm,
)

_SURVEY = "needs consumer survey answers (a SurveyAnswered event); no service records a survey"
NOT_COMPUTABLE: dict[str, str] = {
    "queue_wait_within_threshold": "needs the queue ticket and service start times (QueueTicketIssued,"
    " ServiceStarted); no service records the queue",
    "documents_processed_correctly": "needs decisions corrected for an official's error with the cause"
    " (DecisionCorrected{cause}); the log has none, and a reopening after an upheld complaint does not say"
    " whether an official erred",
    "info_available_online": "a configuration metric (which information is published online), not an"
    " event of the log",
    "process_quality_satisfaction": _SURVEY,
    "procedure_information_satisfaction": _SURVEY,
    "complaint_procedure_satisfaction": _SURVEY,
    "complaint_timing_satisfaction": _SURVEY,
    "courtesy_satisfaction": _SURVEY,
    "egov_process_quality_satisfaction": _SURVEY,
    "egov_information_satisfaction": _SURVEY,
}
"""Catalog indicators the event log cannot give, with why."""
