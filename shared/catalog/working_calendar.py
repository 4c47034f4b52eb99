"""Working days of Kazakhstan: weekends, public holidays and government day-off transfers.

Source: the `holidays` package (`holidays.country_holidays("KZ")`), never a hand-typed list.
How it represents the Law on holidays of 2001-12-13 and the yearly transfer decrees:

* public holidays that are days off (New Year 1-2 Jan, 8 March, Nauryz 21-23 March, 1, 7, 9 May,
  6 July, 30 August, 25 October since 2022, 1 December 2012-2021, 16(-17) December, Orthodox
  Christmas and the first day of Kurban ait) are entries of the mapping;
* a holiday falling on a weekend gets an "(observed)" entry on the next working day;
* a transferred day off (e.g. Friday 3 Jan 2025) is an entry named "Day off (substituted from
  05/01/2025)", and the Saturday or Sunday that becomes a working day in exchange is listed in
  `weekend_workdays` (e.g. Sunday 5 Jan 2025).

A day is a working day when it is not a listed day off and is either a weekday or one of those
working weekend days.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache
from typing import Protocol

import holidays


class WorkingCalendar(Protocol):
    def is_working_day(self, day: date, /) -> bool: ...


@lru_cache(maxsize=256)
def _kazakhstan_year(year: int) -> tuple[dict[date, str], frozenset[date]]:
    calendar = holidays.country_holidays("KZ", years=year, language="en_US")
    days_off = {d: str(name) for d, name in calendar.items() if d.year == year}
    working_weekend_days = frozenset(d for d in calendar.weekend_workdays if d.year == year)
    return days_off, working_weekend_days


class KazakhstanCalendar:
    """The national working calendar, with optional local corrections.

    `extra_days_off` / `extra_working_days` let an administrator correct the package (e.g. a
    transfer decree published after the package release) without touching code.
    """

    def __init__(self, extra_days_off: Iterable[date] = (), extra_working_days: Iterable[date] = ()) -> None:
        self._extra_days_off = frozenset(extra_days_off)
        self._extra_working_days = frozenset(extra_working_days)
        if self._extra_days_off & self._extra_working_days:
            raise ValueError("a day cannot be both an extra day off and an extra working day")

    def day_off_name(self, day: date) -> str | None:
        """The name of the public holiday / transferred day off on `day`, if any."""
        return _kazakhstan_year(day.year)[0].get(day)

    def is_working_day(self, day: date, /) -> bool:
        if day in self._extra_working_days:
            return True
        if day in self._extra_days_off:
            return False
        days_off, working_weekend_days = _kazakhstan_year(day.year)
        if day in days_off:
            return False
        if day.weekday() >= 5:
            return day in working_weekend_days
        return True


DEFAULT_CALENDAR = KazakhstanCalendar()


def next_working_day_on_or_after(day: date, calendar: WorkingCalendar) -> date:
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return day


def nth_working_day_after(day: date, n: int, calendar: WorkingCalendar) -> date:
    """The n-th working day strictly after `day` (n >= 1)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    while n:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            n -= 1
    return day
