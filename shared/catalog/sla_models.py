"""An edition's terms as the seeds state them: the SLA (base term, per channel and subtype, its
extension, forwarding, notification, storage of the result) and queue limits. `deadlines`
computes due dates from them.
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, PositiveInt, model_validator

from shared.catalog.strict import Id, Strict, require_unique
from shared.catalog.vocabulary import (
    ClockStart,
    DayExclusion,
    DurationUnit,
    SlaUnit,
)


class Duration(Strict):
    max: PositiveInt
    unit: DurationUnit
    note: str | None = None


def _total_and_unit(total: int | None, unit: object | None) -> None:
    if (total is None) != (unit is None):
        raise ValueError("total and unit must both be given or both be null")


class ChannelSla(Strict):
    """A channel-specific total term overriding the edition's base term."""

    channel: Id
    total: PositiveInt | None
    unit: SlaUnit | None
    excludes: tuple[DayExclusion, ...] | None = None
    """None: the base `excludes` apply."""
    note: str | None = None

    @model_validator(mode="after")
    def _pair(self) -> Self:
        _total_and_unit(self.total, self.unit)
        return self


class SubtypeSla(Strict):
    subtype: Id
    total: PositiveInt
    unit: SlaUnit
    excludes: tuple[DayExclusion, ...] | None = None
    note: str | None = None


class SlaExtension(Strict):
    """The term may be extended; `max_total` is the longest total term, counted from the start."""

    max_total: PositiveInt
    unit: DurationUnit
    condition: str


class Forwarding(Strict):
    from_channel: Id = Field(alias="from")
    to: Id
    what: str
    max: PositiveInt | None = None
    unit: DurationUnit | None = None
    excludes: tuple[DayExclusion, ...] = ()
    cadence: str | None = None
    source: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _pair(self) -> Self:
        _total_and_unit(self.max, self.unit)
        return self


class NotifyAfterDecision(Strict):
    max: PositiveInt
    unit: DurationUnit
    who: str
    source: str | None = None


class ResultStorage(Strict):
    keeper: Id
    max: PositiveInt
    unit: DurationUnit
    then: str


class Sla(Strict):
    total: PositiveInt | None
    unit: SlaUnit | None
    starts_at: ClockStart | None
    excludes: tuple[DayExclusion, ...] = ()
    per_channel: tuple[ChannelSla, ...] = ()
    per_subtype: tuple[SubtypeSla, ...] = ()
    extension: SlaExtension | None = None
    forwarding: tuple[Forwarding, ...] = ()
    notify_after_decision: NotifyAfterDecision | None = None
    result_storage: ResultStorage | None = None
    term_parameter: Id | None = None
    """The seed leaves the total term to another act (a district maslikhat's Rules): the term is
    this parameter's value (a `term`) for the office's district on the day of acceptance."""
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _total_and_unit(self.total, self.unit)
        if self.term_parameter is not None and self.total is not None:
            raise ValueError("a term is given either as total/unit or as term_parameter, not both")
        require_unique([c.channel for c in self.per_channel], "per_channel channel")
        require_unique([s.subtype for s in self.per_subtype], "per_subtype subtype")
        return self


class ChannelQueueLimits(Strict):
    channel: Id
    submit_wait_max_min: PositiveInt | None = None
    result_wait_max_min: PositiveInt | None = None
    service_time_max_min: PositiveInt | None = None
    note: str | None = None


class QueueLimits(Strict):
    submit_wait_max_min: PositiveInt | None = None
    result_wait_max_min: PositiveInt | None = None
    service_time_max_min: PositiveInt | None = None
    wait_formula: str | None = None
    wait_minutes_per_person: PositiveInt | None = None
    """Machine form of `wait_formula`: max wait = this many minutes x people ahead in the queue."""
    per_channel: tuple[ChannelQueueLimits, ...] = ()
    note: str | None = None
