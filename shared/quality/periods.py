"""Report periods: whole local days of the office's region, split by month, quarter or year."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

NATIONAL_ZONE = ZoneInfo("Asia/Almaty")
"""The zone of an event whose region is unknown: the capital's (as the complaints service does)."""


class Split(StrEnum):
    RANGE = "range"
    """One period: the whole --from..--to range."""
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date
    """Last day, inclusive."""

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.start, self.end)))

    def __hash__(self) -> int:
        # Every fact's group key holds its period: the generated dataclass hash (a new tuple per
        # call) was the largest single cost of a report; this one is computed once.
        return self._hash  # type: ignore[attr-defined, no-any-return]


def _next_start(day: date, split: Split) -> date:
    if split is Split.YEAR:
        return date(day.year + 1, 1, 1)
    months = 1 if split is Split.MONTH else 3
    first_month = day.month if split is Split.MONTH else (day.month - 1) // 3 * 3 + 1
    month = first_month + months
    return date(day.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


class PeriodGrid:
    """The periods of [start, end] (inclusive local days) and which one a local day falls in."""

    def __init__(self, start: date, end: date, split: Split = Split.RANGE) -> None:
        if end < start:
            raise ValueError("the period ends before it starts")
        self.start, self.end, self.split = start, end, split
        periods: list[Period] = []
        if split is Split.RANGE:
            periods.append(Period(start, end))
        else:
            day = start
            while day <= end:
                following = _next_start(day, split)
                periods.append(Period(day, min(end, following - timedelta(days=1))))
                day = following
        self.periods = tuple(periods)
        self._by_day: dict[date, Period] = {}

    def period_of(self, instant: datetime, zone: ZoneInfo) -> Period | None:
        """The period holding the local day of `instant` in `zone`; None outside the report."""
        return self.period_of_day(instant.astimezone(zone).date())

    def period_of_day(self, day: date) -> Period | None:
        """The period holding the local day `day`; None outside the report."""
        if day < self.start or day > self.end:
            return None
        found = self._by_day.get(day)
        if found is None:
            found = self._by_day[day] = next(p for p in self.periods if p.start <= day <= p.end)
        return found
