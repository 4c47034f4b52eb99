"""Streams facts through every computed indicator and yields the figures per group.

Pure: no I/O. Memory grows with the groups, the applications of the report still counted as
right the first time, the distinct applicants served, the refusals awaiting an acceptance and the
complaints not answered yet; never with the number of events read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from shared.quality.facts import ComplaintAnswer, Decision, Fact, Submission
from shared.quality.indicators import COMPUTED, GroupKey, Indicator
from shared.quality.periods import NATIONAL_ZONE, PeriodGrid

UNSPECIFIED_SERVICE = "unspecified"
"""The service of a complaint about an official's act that names none."""

ZoneOf = Callable[[str | None], ZoneInfo]


@dataclass
class GroupSeen:
    """What the facts of one group said about it: its editions (for the targets) and regions."""

    editions: set[str] = field(default_factory=set)
    regions: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Figure:
    indicator: type[Indicator]
    key: GroupKey
    numerator: int
    denominator: int
    note: str | None
    editions: frozenset[str]
    regions: frozenset[str]


class QualityComputation:
    def __init__(
        self,
        grid: PeriodGrid,
        zone_of: ZoneOf,
        *,
        office: str | None = None,
        service: str | None = None,
        today: date | None = None,
    ) -> None:
        """`today`: the report's day (default: today in the capital's zone); an open case whose
        term ends before it is late."""
        self.grid, self.zone_of, self.office, self.service = grid, zone_of, office, service
        self.today = today or datetime.now(UTC).astimezone(NATIONAL_ZONE).date()
        self._finished = False
        self.indicators = [cls() for cls in COMPUTED]
        for indicator in self.indicators:
            indicator.bind(self.place)
        self._readers: dict[type, list[Indicator]] = {}
        for indicator in self.indicators:
            for kind in indicator.reads:
                self._readers.setdefault(kind, []).append(indicator)
        self.groups: dict[GroupKey, GroupSeen] = {}

    def feed_all(self, facts: Iterable[Fact]) -> None:
        for fact in facts:
            self.feed(fact)

    def feed(self, fact: Fact) -> None:
        key = self._key(fact)
        for indicator in self._readers.get(type(fact), ()):
            indicator.feed(fact, key)

    def _key(self, fact: Fact) -> GroupKey | None:
        instant: datetime
        if isinstance(fact, Submission):
            service, instant, edition = fact.service_id, fact.received_at, fact.edition_id
        elif isinstance(fact, Decision):
            service, instant, edition = fact.service_id, fact.decided_at, fact.edition_id
        elif isinstance(fact, ComplaintAnswer):
            service, instant, edition = fact.service_id or UNSPECIFIED_SERVICE, fact.resolved_at, None
        else:
            return None
        if not self._reported(service, fact.office_id):
            return None
        period = self.grid.period_of(instant, self.zone_of(fact.region))
        if period is None:
            return None
        return self._seen((service, fact.office_id, period), fact.region, edition)

    def place(self, service: str | None, office: str, region: str | None, day: date) -> GroupKey | None:
        """The group of a fact counted by a local day of its own (a complaint's due day)."""
        service = service or UNSPECIFIED_SERVICE
        if not self._reported(service, office):
            return None
        period = self.grid.period_of_day(day)
        return None if period is None else self._seen((service, office, period), region, None)

    def _reported(self, service: str, office: str) -> bool:
        """The report's --office and --service let this group in."""
        return (self.office is None or office == self.office) and (
            self.service is None or service == self.service
        )

    def _seen(self, key: GroupKey, region: str | None, edition: str | None) -> GroupKey:
        seen = self.groups.get(key)
        if seen is None:
            seen = self.groups[key] = GroupSeen()
        if edition:
            seen.editions.add(edition)
        if region:
            seen.regions.add(region)
        return key

    def figures(self) -> Iterator[Figure]:
        """Every computed indicator of every group the facts touched, ordered by service, office
        and period (a group without a single case of an indicator gives 0 ÷ 0)."""
        if not self._finished:
            self._finished = True
            for indicator in self.indicators:
                indicator.finish(self.today)
        for key in sorted(self.groups):
            seen = self.groups[key]
            for indicator in self.indicators:
                tally = indicator.tally(key)
                yield Figure(
                    indicator=type(indicator),
                    key=key,
                    numerator=tally.numerator,
                    denominator=tally.denominator,
                    note=indicator.note(tally),
                    editions=frozenset(seen.editions),
                    regions=frozenset(seen.regions),
                )
