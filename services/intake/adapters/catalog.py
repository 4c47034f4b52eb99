"""The service catalog as the intake domain sees it (`CatalogPort`), over `shared.catalog`.

Editions are chosen with the administrator's adoptions (the shipped example adoptions unless
others are given): every seed act is repealed, so without an adoption nothing is in force today.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from shared.catalog.catalog import Catalog
from shared.catalog.deadlines import due_at
from shared.catalog.editions import AdoptionRecord, EditionChoice
from shared.catalog.errors import UnknownChannel
from shared.catalog.models import Edition, Service


class CatalogAdapter:
    def __init__(self, catalog: Catalog, adoptions: Iterable[AdoptionRecord]) -> None:
        self.catalog = catalog
        self.adoptions = tuple(adoptions)
        self._categories = catalog.condition_vocabulary.category_ids()

    def service(self, service_id: str) -> Service:
        return self.catalog.service(service_id)

    def channel_known(self, channel_id: str) -> bool:
        try:
            self.catalog.channel(channel_id)
        except UnknownChannel:
            return False
        return True

    def category_known(self, category_id: str) -> bool:
        return category_id in self._categories

    def choose_edition(self, service_id: str, region: str, on_date: date) -> EditionChoice:
        return self.catalog.resolve_edition(service_id, region, on_date, self.adoptions)

    def due_at(
        self,
        service: Service,
        edition: Edition,
        channel: str,
        start: datetime,
        tz: ZoneInfo,
        subtype: str | None,
    ) -> datetime:
        return due_at(service, edition, channel, start, tz, subtype, policy=self.catalog.deadline_policy)

    def edition(self, service_id: str, edition_id: str) -> Edition:
        return self.catalog.service(service_id).edition(edition_id)


def default_catalog() -> CatalogAdapter:
    """The shipped catalog with its EXAMPLE adoptions."""
    from shared.catalog.loader import load_catalog, load_example_adoptions

    catalog = load_catalog()
    return CatalogAdapter(catalog, load_example_adoptions(catalog))
