"""Target values next to the figures: only what the catalog holds, never an invented number.

In order: a `quality_targets` value an administrator recorded (`qyzmet params set`; the shipped
EXAMPLE values are never used) for the group's region and the period's last day; else the
"normative value" the seed printed in the edition's quality-indicator profile; else no target,
saying why ("no target in the seeds" for the blank 004 columns).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from shared.catalog.catalog import Catalog
from shared.catalog.errors import CatalogError
from shared.catalog.models import Edition
from shared.catalog.parameters import ParameterBook, ParameterRecord
from shared.catalog.vocabulary import NATIONAL

PARAMETER = "quality_targets"
NO_TARGET_IN_SEEDS = "no target in the seeds"


@dataclass(frozen=True)
class Target:
    value: Decimal | None
    """Percent; None = no target (see `source`)."""
    source: str
    suspect: bool = False
    note: str | None = None


class TargetBook:
    def __init__(self, catalog: Catalog, recorded: Iterable[ParameterRecord] = ()) -> None:
        self.catalog = catalog
        regions = [r.id for r in catalog.regions]
        real = [r for r in recorded if r.parameter == PARAMETER and not r.example]
        self._book = ParameterBook(catalog.parameters.values(), real, regions=regions, include_examples=False)

    def target(
        self, indicator_id: str, service_id: str, editions: Iterable[str], regions: Iterable[str], on: date
    ) -> Target:
        recorded = self._recorded(indicator_id, regions, on)
        if recorded is not None:
            return recorded
        return self._from_seeds(indicator_id, service_id, frozenset(editions), frozenset(regions))

    def _recorded(self, indicator_id: str, regions: Iterable[str], on: date) -> Target | None:
        places = sorted(set(regions))
        region = places[0] if len(places) == 1 else NATIONAL
        try:
            resolved = self._book.lookup(PARAMETER, region, on)
        except (CatalogError, LookupError):
            return None
        table = resolved.value
        if not isinstance(table, Mapping) or indicator_id not in table:
            return None
        record = resolved.record
        who = f", recorded by {record.recorded_by}" if record.recorded_by else ""
        source = f"parameter {PARAMETER} ({record.region}, from {record.effective_from.isoformat()}{who})"
        return Target(Decimal(table[indicator_id]), source, note=record.source)

    def _from_seeds(
        self, indicator_id: str, service_id: str, seen: frozenset[str], regions: frozenset[str]
    ) -> Target:
        """The target of the editions the group's facts named; where they named none (complaints
        only), of the service's editions for the group's regions."""
        try:
            service = self.catalog.service(service_id)
        except (CatalogError, LookupError):
            return Target(None, "the service is not in the catalog")
        editions: list[Edition] = [e for e in service.editions if e.id in seen] or [
            e for e in service.editions if not regions or any(e.applies_to_region(r) for r in regions)
        ]
        profiled = [e for e in editions if e.quality_indicator_profile]
        if not profiled:
            return Target(None, "the catalog gives the service no quality-indicator profile")
        found = {
            (e.quality_indicator_profile, i.number, i.target_percent, i.suspect, i.note)
            for e in profiled
            for i in e.quality_indicators
            if i.id == indicator_id
        }
        profiles = ", ".join(sorted({str(e.quality_indicator_profile) for e in profiled}))
        if not found:
            return Target(None, f"not an indicator of the service's profile ({profiles})")
        values = {value for _, _, value, _, _ in found}
        if values == {None}:
            rows = ", ".join(sorted(f"{p} row {n}" for p, n, _, _, _ in found))
            return Target(None, f"{NO_TARGET_IN_SEEDS} ({rows}: set yearly, parameter {PARAMETER})")
        if len(values) > 1:
            listed = "; ".join(sorted(f"{p} row {n}: {v}" for p, n, v, _, _ in found))
            return Target(None, f"the editions in the period give different targets ({listed})")
        profile, number, value, _, _ = next(iter(found))
        suspect = any(s for _, _, _, s, _ in found)
        notes = sorted({n for _, _, _, _, n in found if n})
        return Target(value, f"catalog profile {profile} row {number}", suspect, "; ".join(notes) or None)
