"""What the intake domain needs from the outside world, as plain protocols and records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from shared.catalog.editions import EditionChoice
from shared.catalog.models import Edition, Service


@dataclass(frozen=True)
class Office:
    """A receiving office (department, ЦОН, village akim, ГЦВП branch) from the offices reference."""

    id: str
    name: str
    region: str
    time_zone: str
    kind: str
    channels: tuple[str, ...]
    example: bool = True
    district: str | None = None
    """The district or city whose maslikhat's parameters apply (None: the region's)."""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


@dataclass(frozen=True)
class Due:
    """When an accepted application is due, and how the term was found (for the talon)."""

    at: datetime
    note: str | None = None


class OfficeDirectory(Protocol):
    def office(self, office_id: str) -> Office | None: ...


class CatalogPort(Protocol):
    """The catalog as intake uses it. Lookups raise the `shared.catalog.errors` exceptions."""

    def service(self, service_id: str) -> Service: ...

    def channel_known(self, channel_id: str) -> bool: ...

    def category_known(self, category_id: str) -> bool: ...

    def choose_edition(self, service_id: str, region: str, on_date: date) -> EditionChoice: ...

    def due(
        self,
        service: Service,
        edition: Edition,
        channel: str,
        accepted_at: datetime,
        office: Office,
        subtype: str | None,
    ) -> Due:
        """The due date of an application accepted at `office` (after the ЦОН's forwarding
        term where the seed says so; a term parameter for the office's district)."""
        ...
