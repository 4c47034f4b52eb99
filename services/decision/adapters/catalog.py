"""The catalog as the decision service uses it: editions, parameters, time zones, policy."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from services.decision.domain.rules import ParameterLookup, book_lookup
from shared.catalog.catalog import Catalog
from shared.catalog.deadlines import DeadlinePolicy
from shared.catalog.errors import CatalogError
from shared.catalog.models import Edition, Service
from shared.catalog.parameters import ParameterBook, ParameterRecord

APPROACHING_SHARE_PARAMETER = "deadline_approaching_share"
"""Used when the catalog defines it; otherwise the service setting applies (see the report)."""
SHARES_KEPT = 4096
"""Approaching shares a catalog keeps looked up (regions x days; emptied when full)."""


class DecisionCatalog:
    def __init__(self, catalog: Catalog, parameters: ParameterBook) -> None:
        self.catalog = catalog
        self.parameters = parameters
        self.lookup: ParameterLookup = book_lookup(parameters)
        self._base = parameters
        self._shares: dict[tuple[str, date, Decimal], Decimal] = {}

    @classmethod
    def load(
        cls, records: Iterable[ParameterRecord] = (), *, include_examples: bool = True
    ) -> DecisionCatalog:
        from shared.catalog.loader import load_catalog, load_parameter_book

        catalog = load_catalog()
        return cls(catalog, load_parameter_book(catalog, records, include_examples=include_examples))

    def with_stored(self, stored: Iterable[ParameterRecord]) -> DecisionCatalog:
        """This catalog's own parameter records (examples, if it was built with them) plus the
        records administrators stored; a stored record beats an example (ParameterBook's rules)."""
        base = [r for pid in self._base.definitions for r in self._base.records(pid)]
        book = ParameterBook(
            self._base.definitions.values(), [*base, *stored], regions=[r.id for r in self.catalog.regions]
        )
        refreshed = DecisionCatalog(self.catalog, book)
        refreshed._base = self._base
        return refreshed

    def service(self, service_id: str) -> Service:
        return self.catalog.service(service_id)

    def edition(self, service_id: str, edition_id: str) -> Edition:
        return self.catalog.service(service_id).edition(edition_id)

    def time_zone(self, region: str) -> ZoneInfo:
        if region == "national":
            return ZoneInfo("Asia/Almaty")
        return self.catalog.time_zone(region)

    @property
    def policy(self) -> DeadlinePolicy:
        return self.catalog.deadline_policy

    def approaching_share(self, region: str, on_date: date, default: Decimal) -> Decimal:
        """The share of a term after which its deadline approaches, in `region` on `on_date`
        (`default` where the catalog has none in force). Looked up once per region and day for
        this catalog (it never changes: a parameter refresh makes a new catalog): every case
        opened asks (issue 14)."""
        key = (region, on_date, default)
        share = self._shares.get(key)
        if share is None:
            if len(self._shares) >= SHARES_KEPT:
                self._shares.clear()
            share = self._shares[key] = self._approaching_share(region, on_date, default)
        return share

    def _approaching_share(self, region: str, on_date: date, default: Decimal) -> Decimal:
        if APPROACHING_SHARE_PARAMETER not in self.parameters.definitions:
            return default
        try:
            return self.parameters.decimal(APPROACHING_SHARE_PARAMETER, region, on_date)
        except CatalogError:
            return default
