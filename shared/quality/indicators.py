"""The quality indicators the event log can give, each defined exactly, and those it cannot.

Each computed indicator is one class: which facts it counts, per group (service, office,
period), as numerator ÷ denominator. Ids are the catalog's (`quality_indicator_profiles`, stable
across profiles; DOMAIN.md §10 gives the formulas); `complaints_answered_in_term` is not a
catalog indicator (the catalog's 4.2 counts justified complaints only) and has no target.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import ClassVar, Literal

from shared.quality.facts import ComplaintAnswer, Decision, Fact, IntakeRefusal, Rework, Submission
from shared.quality.periods import Period

GroupKey = tuple[str, str, Period]
"""(service id, office id, period)."""
Better = Literal["higher", "lower"]


@dataclass
class Tally:
    numerator: int = 0
    denominator: int = 0
    not_counted: int = 0
    """Facts of the group left out of both (e.g. decisions without a computable term)."""


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


class ComplaintsAnsweredInTerm(Indicator):
    """Not a catalog indicator (no target): every complaint answered in the period (local day of
    `resolved_at`), whatever the outcome, as the denominator; those answered within their review
    term (`ComplaintResolved.on_time`) as the numerator. A complaint still unanswered is not
    counted until it is answered."""

    id = "complaints_answered_in_term"
    name_en = "Share of complaints answered within the review term"
    in_catalog = False
    reads = (ComplaintAnswer,)

    def feed(self, fact: Fact, key: GroupKey | None) -> None:
        if isinstance(fact, ComplaintAnswer) and key is not None:
            tally = self._tallies[key]
            tally.denominator += 1
            tally.numerator += fact.on_time


COMPUTED: tuple[type[Indicator], ...] = (
    OnTime,
    FirstTimeRight,
    JustifiedComplaintsShare,
    JustifiedComplaintsResolvedInTerm,
    ComplaintsAnsweredInTerm,
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
