"""The catalog as the complaints service uses it: editions and regions, the routing data
(`complaint_routing.yaml`), and the review-term parameters, with the values administrators
recorded (`qyzmet params set`) re-read at most every `parameter_refresh_s` - the decision
service's pattern (services/decision/service_layer/catalogs.py): one re-read at a time, nobody
waits for it after the first, a re-read that cannot get a connection in time gives up."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import asyncpg
import structlog

from shared.catalog.catalog import Catalog
from shared.catalog.complaint_routing import ComplaintRouting, load_complaint_routing
from shared.catalog.deadlines import Term
from shared.catalog.editions import AdoptionRecord
from shared.catalog.example_data import load_example_adoptions, load_example_parameter_records
from shared.catalog.loader import load_catalog
from shared.catalog.models import Edition
from shared.catalog.parameters import ParameterBook, ParameterRecord
from shared.catalog.stored_parameters import stored_adoption_records, stored_parameter_records, with_examples

log = structlog.get_logger(__name__)

ACQUIRE_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class ReviewTerm:
    term: Term
    basis: str
    """Parameter id, value, and whether the value is an example/default (for the talon)."""


class ComplaintsCatalog:
    def __init__(
        self,
        catalog: Catalog,
        routing: ComplaintRouting,
        records: Iterable[ParameterRecord],
        adoptions: Iterable[AdoptionRecord] = (),
    ) -> None:
        self.catalog = catalog
        self.routing = routing
        self._records = tuple(records)
        self.adoptions = tuple(adoptions)
        """Which edition a region applies (every seed act is repealed: without an adoption no
        edition is in force today), for complaints that name no application."""
        self.parameters = ParameterBook(
            catalog.parameters.values(), self._records, regions=[r.id for r in catalog.regions]
        )

    @classmethod
    def load(cls, *, include_examples: bool = True) -> ComplaintsCatalog:
        catalog = load_catalog()
        routing = load_complaint_routing(catalog)
        if not include_examples:
            return cls(catalog, routing, [])
        return cls(catalog, routing, load_example_parameter_records(catalog), load_example_adoptions(catalog))

    def with_stored(
        self, stored: Iterable[ParameterRecord], adoptions: Iterable[AdoptionRecord] = ()
    ) -> ComplaintsCatalog:
        """These shipped records plus the administrators' (which win, by the catalog's rules)."""
        return ComplaintsCatalog(
            self.catalog,
            self.routing,
            [*self._records, *stored],
            with_examples(list(adoptions), self.adoptions),
        )

    def edition_for(self, service_id: str, region: str, on_date: date) -> Edition:
        return self.catalog.edition_for(service_id, region, on_date, self.adoptions)

    def time_zone(self, region: str) -> ZoneInfo:
        return self.catalog.time_zone(region)

    def review_term(self, region: str, on_date: date, *, extended: bool = False) -> ReviewTerm:
        review = self.routing.review
        parameter = review.extended_term_parameter if extended else review.term_parameter
        resolved = self.parameters.lookup(parameter, region, on_date)
        value = self.parameters.term(parameter, region, on_date)
        label = "EXAMPLE/DEFAULT value" if resolved.example else (resolved.record.source or "recorded value")
        since = resolved.record.effective_from
        basis = f"{parameter} = {value.amount} {value.unit.value} ({label}, in force from {since})"
        return ReviewTerm(Term(value.amount, value.unit), basis)


class StoredParameters:
    """The catalog with the administrator-set parameter values read from PostgreSQL."""

    def __init__(
        self, pool: asyncpg.Pool, catalog: ComplaintsCatalog, catalog_schema: str, refresh_s: float
    ) -> None:
        self.pool = pool
        self.catalog = catalog
        self.catalog_schema = catalog_schema
        self.refresh_s = refresh_s
        self._base = catalog
        self._read_at = -math.inf
        self._reading = asyncio.Lock()

    def _stale(self) -> bool:
        return time.monotonic() - self._read_at >= self.refresh_s

    async def current(self) -> ComplaintsCatalog:
        never_read = self._read_at == -math.inf
        if self._stale() and (never_read or not self._reading.locked()):
            async with self._reading:
                if self._stale():
                    await self._try_refresh()
        return self.catalog

    async def _try_refresh(self) -> None:
        try:
            async with self.pool.acquire(timeout=ACQUIRE_TIMEOUT_S) as conn:
                records = await stored_parameter_records(conn, self.catalog_schema)
                adoptions = await stored_adoption_records(conn, self.catalog_schema)
            self.catalog = self._base.with_stored(records, adoptions)
            self._read_at = time.monotonic()
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("parameter values not re-read; using the last ones", error=type(exc).__name__)
