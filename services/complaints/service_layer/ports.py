"""What the complaints use cases need from outside: the current catalog (with the
administrator-set parameters)."""

from __future__ import annotations

from typing import Protocol
from zoneinfo import ZoneInfo

from services.complaints.adapters.catalog import ComplaintsCatalog
from shared.catalog.errors import CatalogError

NATIONAL = "national"
"""The catalog's region of national records (parameters and editions), not a region with a time zone."""

NATIONAL_ZONE = ZoneInfo("Asia/Almaty")
"""The time of a record without a known region (the capital's, as the decision service uses)."""


def zone_of(catalog: ComplaintsCatalog, region: str | None) -> ZoneInfo:
    """The region's office time zone; the national one for no region or an unknown one."""
    if region is None:
        return NATIONAL_ZONE
    try:
        return catalog.time_zone(region)
    except CatalogError:
        return NATIONAL_ZONE


class CatalogSource(Protocol):
    async def current(self) -> ComplaintsCatalog: ...
