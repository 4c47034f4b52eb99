"""Deadline engine: when is a service, forwarding or notification due?

Conventions (the catalog setting `deadlines` in data/catalog.yaml holds the policy values):

* Input and output instants are timezone-aware; results are in UTC. Day counting happens in the
  office's time zone (the region's IANA zone).
* A term in days starts on the day after the event that begins it (general civil-law rule of
  Kazakhstan): the day of acceptance is not counted (`count_acceptance_day: false`). If the policy
  counts it, an edition's `excludes: [acceptance_day]` still switches it off for that edition.
* Working days skip weekends, public holidays and transferred days off and count a Saturday made
  a working day by decree (see shared.catalog.working_calendar).
* A calendar-day term whose last day is not a working day ends on the next working day
  (`roll_to_next_working_day: true`).
* `excludes: [issue_day]`: the result is issued on the day after the last counted day
  (Akmola ЦОН: accepted Monday, Tuesday-Thursday are the 3 days, issued Friday).
* Day-based terms are due at the END OF THE DUE DAY in the office time zone: `due_time`
  (default 23:59:59 local). On time means at or before the due instant.
* Minute and hour terms are elapsed time from the start (not office hours).
* `days_unspecified` (the seed says "days" without the kind) is counted per the named policy
  `days_unspecified_as`, a catalog-level setting; default CALENDAR DAYS.
* Month terms (extensions, storage) end on the same day number months later (clamped to the end
  of a shorter month), then roll to a working day.
* `due_at` never returns an instant before `start`.
* Where the term starts at the branch's registration (`starts_at: registered_at_branch`) and the
  application was accepted by an intake point that forwards it (the ЦОН, with `sla.forwarding`
  from that channel), the clock starts when the forwarding term ends: the branch registers the
  transmittal at the latest on the forwarding day, and the service term is counted from the next
  day (`clock_start`, `application_due_at`). ЦОН accepts Monday -> forwards by Tuesday -> 10
  working days counted from Wednesday.
* `sla.term_parameter`: the seed leaves the term to another act (a district maslikhat's Rules);
  the caller resolves the parameter for the office's district and date (`TermParameter`).
"""

from __future__ import annotations

import calendar as _gregorian
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from shared.catalog.errors import (
    AmbiguousSla,
    ChannelNotOffered,
    NoExtensionAllowed,
    SlaNotDefined,
    UnknownSubtype,
)
from shared.catalog.models import Edition, Forwarding, Service
from shared.catalog.vocabulary import ClockStart, Coverage, DayExclusion, DurationUnit
from shared.catalog.working_calendar import (
    DEFAULT_CALENDAR,
    WorkingCalendar,
    next_working_day_on_or_after,
    nth_working_day_after,
)


class DeadlinePolicy(BaseModel):
    """Named policy decisions for counting terms (catalog setting `deadlines`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days_unspecified_as: Literal["calendar_days", "working_days"] = "calendar_days"
    """How to count a term the seed gives in "days" of unstated kind. Default: calendar days."""
    count_acceptance_day: bool = False
    """False: a day term starts the day after acceptance (civil-law rule)."""
    roll_to_next_working_day: bool = True
    """A calendar-day term ending on a day off ends on the next working day."""
    due_time: time = time(23, 59, 59)
    """Local time of day at which a day-based term falls due (end of the due day)."""


DEFAULT_DEADLINE_POLICY = DeadlinePolicy()


@dataclass(frozen=True)
class Term:
    amount: int
    unit: DurationUnit
    excludes: frozenset[DayExclusion] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.amount < 0:
            raise ValueError("a term cannot be negative")


class TermSource(StrEnum):
    BASE = "base"
    CHANNEL = "channel"
    SUBTYPE = "subtype"
    EXTENSION = "extension"
    FORWARDING = "forwarding"
    NOTIFICATION = "notification"
    PARAMETER = "parameter"


TermParameter = Callable[[str], Term]
"""The value of a term parameter (`sla.term_parameter`) for the application's district and date;
raises a CatalogError (e.g. ParameterNotInForce) when none is in force."""


@dataclass(frozen=True)
class ResolvedTerm:
    """The term that applies to an application and where it comes from in the catalog."""

    term: Term
    source: TermSource
    note: str | None = None


def _require_aware(instant: datetime, name: str) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (got naive {instant.isoformat()})")


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, _gregorian.monthrange(year, month)[1]))


def counting_unit(unit: DurationUnit, policy: DeadlinePolicy) -> DurationUnit:
    """The unit actually counted: `days_unspecified` becomes the policy's choice."""
    if unit is DurationUnit.DAYS_UNSPECIFIED:
        return DurationUnit(policy.days_unspecified_as)
    return unit


def add_term(
    start: datetime,
    term: Term,
    tz: ZoneInfo,
    *,
    policy: DeadlinePolicy = DEFAULT_DEADLINE_POLICY,
    calendar: WorkingCalendar = DEFAULT_CALENDAR,
) -> datetime:
    """The instant (UTC) at which `term`, started at `start`, falls due. See module conventions."""
    _require_aware(start, "start")
    start_utc = start.astimezone(UTC)
    unit = counting_unit(term.unit, policy)
    if unit is DurationUnit.MINUTES:
        return start_utc + timedelta(minutes=term.amount)
    if unit is DurationUnit.HOURS:
        return start_utc + timedelta(hours=term.amount)

    first_day = start.astimezone(tz).date()
    count_first_day = policy.count_acceptance_day and DayExclusion.ACCEPTANCE_DAY not in term.excludes
    issue_day_excluded = DayExclusion.ISSUE_DAY in term.excludes

    if unit is DurationUnit.SAME_DAY:
        last = first_day
    elif unit is DurationUnit.WORKING_DAYS:
        if term.amount == 0:
            last = next_working_day_on_or_after(first_day, calendar)
        elif count_first_day and calendar.is_working_day(first_day):
            last = (
                first_day if term.amount == 1 else nth_working_day_after(first_day, term.amount - 1, calendar)
            )
        else:
            last = nth_working_day_after(first_day, term.amount, calendar)
        if issue_day_excluded:
            last = nth_working_day_after(last, 1, calendar)
    else:
        if unit is DurationUnit.CALENDAR_DAYS:
            days = term.amount - 1 if count_first_day and term.amount > 0 else term.amount
            last = first_day + timedelta(days=days)
        elif unit is DurationUnit.MONTHS:
            last = add_months(first_day, term.amount)
        else:  # pragma: no cover - every DurationUnit is handled above
            raise ValueError(f"unsupported unit {unit}")
        if issue_day_excluded:
            last += timedelta(days=1)
        if policy.roll_to_next_working_day:
            last = next_working_day_on_or_after(last, calendar)

    due = datetime.combine(last, policy.due_time, tzinfo=tz).astimezone(UTC)
    return max(due, start_utc)


def _check_edition(service: Service, edition: Edition) -> None:
    found = service.edition(edition.id)
    if found is not edition and found != edition:
        raise ValueError(f"edition {edition.id!r} given is not the catalog's edition of {service.id!r}")


def resolve_term(
    service: Service,
    edition: Edition,
    channel: str,
    subtype: str | None = None,
    *,
    term_parameter: TermParameter | None = None,
) -> ResolvedTerm:
    """The total term for an application through `channel` (and `subtype`) under `edition`.

    A channel or subtype override replaces the base term; both matching is refused as ambiguous.
    An edition whose term is a parameter takes it from `term_parameter`.
    Raises ChannelNotOffered, UnknownSubtype or SlaNotDefined (the seeds give no term).
    """
    _check_edition(service, edition)
    if subtype is not None and subtype not in service.subtypes:
        raise UnknownSubtype(service.id, subtype)
    sla = edition.sla
    if sla is None:
        reason = (
            "the edition has no SLA: only an amendment of this version is in the seeds"
            if edition.coverage is Coverage.AMENDMENT_ONLY
            else "the edition has no SLA"
        )
        raise SlaNotDefined(service.id, edition.id, reason)
    if channel not in edition.channels:
        raise ChannelNotOffered(service.id, edition.id, channel)
    by_channel = next((c for c in sla.per_channel if c.channel == channel), None)
    by_subtype = next((s for s in sla.per_subtype if s.subtype == subtype), None) if subtype else None
    if by_channel is not None and by_subtype is not None:
        raise AmbiguousSla(
            service.id, edition.id, f"both channel {channel!r} and subtype {subtype!r} override"
        )
    if by_channel is not None:
        if by_channel.total is None or by_channel.unit is None:
            raise SlaNotDefined(
                service.id,
                edition.id,
                f"no term for channel {channel!r}: {by_channel.note or 'not in the seed'}",
            )
        excludes = sla.excludes if by_channel.excludes is None else by_channel.excludes
        term = Term(by_channel.total, DurationUnit(by_channel.unit), frozenset(excludes))
        return ResolvedTerm(term, TermSource.CHANNEL, by_channel.note)
    if by_subtype is not None:
        excludes = sla.excludes if by_subtype.excludes is None else by_subtype.excludes
        term = Term(by_subtype.total, DurationUnit(by_subtype.unit), frozenset(excludes))
        return ResolvedTerm(term, TermSource.SUBTYPE, by_subtype.note)
    if sla.term_parameter is not None:
        if term_parameter is None:
            raise SlaNotDefined(
                service.id, edition.id, f"the term is parameter {sla.term_parameter!r}, not given here"
            )
        return ResolvedTerm(
            term_parameter(sla.term_parameter), TermSource.PARAMETER, f"parameter {sla.term_parameter}"
        )
    if sla.total is None or sla.unit is None:
        raise SlaNotDefined(service.id, edition.id, sla.note or "no total term in the seed")
    return ResolvedTerm(
        Term(sla.total, DurationUnit(sla.unit), frozenset(sla.excludes)), TermSource.BASE, sla.note
    )


def due_at(
    service: Service,
    edition: Edition,
    channel: str,
    start: datetime,
    tz: ZoneInfo,
    subtype: str | None = None,
    *,
    policy: DeadlinePolicy = DEFAULT_DEADLINE_POLICY,
    calendar: WorkingCalendar = DEFAULT_CALENDAR,
    term_parameter: TermParameter | None = None,
) -> datetime:
    """When the service is due (UTC), counting from `start` (the event named by `sla.starts_at`;
    from an intake point's acceptance use `application_due_at`)."""
    resolved = resolve_term(service, edition, channel, subtype, term_parameter=term_parameter)
    return add_term(start, resolved.term, tz, policy=policy, calendar=calendar)


def forwarding_from(edition: Edition, channel: str) -> Forwarding | None:
    """The forwarding step with a term from `channel`, when the service term waits for it: the
    term starts at the registration by the receiving unit (`registered_at_branch`)."""
    sla = edition.sla
    if sla is None or sla.starts_at is not ClockStart.REGISTERED_AT_BRANCH:
        return None
    return next((f for f in sla.forwarding if f.from_channel == channel and f.max is not None), None)


def clock_start(
    service: Service,
    edition: Edition,
    channel: str,
    accepted_at: datetime,
    tz: ZoneInfo,
    *,
    policy: DeadlinePolicy = DEFAULT_DEADLINE_POLICY,
    calendar: WorkingCalendar = DEFAULT_CALENDAR,
) -> datetime:
    """When the service term starts for an application accepted at `accepted_at` through
    `channel`: the acceptance itself, or the end of the forwarding term where the seed runs the
    term from the receiving unit's registration of the forwarded documents."""
    _check_edition(service, edition)
    if forwarding_from(edition, channel) is None:
        return accepted_at
    return forwarding_due_at(service, edition, channel, accepted_at, tz, policy=policy, calendar=calendar)


def application_due_at(
    service: Service,
    edition: Edition,
    channel: str,
    accepted_at: datetime,
    tz: ZoneInfo,
    subtype: str | None = None,
    *,
    policy: DeadlinePolicy = DEFAULT_DEADLINE_POLICY,
    calendar: WorkingCalendar = DEFAULT_CALENDAR,
    term_parameter: TermParameter | None = None,
) -> datetime:
    """When an application accepted at `accepted_at` through `channel` is due (UTC): the service
    term counted from `clock_start` (after the ЦОН's forwarding term where the seed says so)."""
    start = clock_start(service, edition, channel, accepted_at, tz, policy=policy, calendar=calendar)
    return due_at(
        service, edition, channel, start, tz, subtype,
        policy=policy, calendar=calendar, term_parameter=term_parameter,
    )  # fmt: skip


def extended_due_at(
    service: Service,
    edition: Edition,
    channel: str,
    start: datetime,
    tz: ZoneInfo,
    subtype: str | None = None,
    *,
    policy: DeadlinePolicy = DEFAULT_DEADLINE_POLICY,
    calendar: WorkingCalendar = DEFAULT_CALENDAR,
) -> datetime:
    """The latest due instant after extending the term by the catalog's allowance.

    `sla.extension.max_total` is the longest total term, counted from the same `start`
    (Semipalatinsk: at most 1 month; MSE: at most 10 working days). Record the extension as a
    TermExtended event with its reason. Raises NoExtensionAllowed if the edition allows none.
    """
    resolved = resolve_term(service, edition, channel, subtype)
    assert edition.sla is not None
    extension = edition.sla.extension
    if extension is None:
        raise NoExtensionAllowed(service.id, edition.id)
    term = Term(extension.max_total, extension.unit, resolved.term.excludes)
    extended = add_term(start, term, tz, policy=policy, calendar=calendar)
    return max(extended, add_term(start, resolved.term, tz, policy=policy, calendar=calendar))


def forwarding_due_at(
    service: Service,
    edition: Edition,
    from_channel: str,
    start: datetime,
    tz: ZoneInfo,
    *,
    policy: DeadlinePolicy = DEFAULT_DEADLINE_POLICY,
    calendar: WorkingCalendar = DEFAULT_CALENDAR,
) -> datetime:
    """When the intake point (e.g. the ЦОН) must have forwarded the documents (UTC)."""
    _check_edition(service, edition)
    for forwarding in edition.sla.forwarding if edition.sla is not None else ():
        if (
            forwarding.from_channel == from_channel
            and forwarding.max is not None
            and forwarding.unit is not None
        ):
            term = Term(forwarding.max, forwarding.unit, frozenset(forwarding.excludes))
            return add_term(start, term, tz, policy=policy, calendar=calendar)
    raise SlaNotDefined(service.id, edition.id, f"no forwarding term from channel {from_channel!r}")


def notification_due_at(
    service: Service,
    edition: Edition,
    decided_at: datetime,
    tz: ZoneInfo,
    *,
    policy: DeadlinePolicy = DEFAULT_DEADLINE_POLICY,
    calendar: WorkingCalendar = DEFAULT_CALENDAR,
) -> datetime:
    """When the applicant (or the ЦОН) must be told of the decision (UTC), if the edition says."""
    _check_edition(service, edition)
    notify = edition.sla.notify_after_decision if edition.sla is not None else None
    if notify is None:
        raise SlaNotDefined(service.id, edition.id, "no notification term after the decision")
    return add_term(decided_at, Term(notify.max, notify.unit), tz, policy=policy, calendar=calendar)
