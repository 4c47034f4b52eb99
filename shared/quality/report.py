"""The quality report: figures beside their targets, and what the log cannot give."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from shared.catalog.catalog import Catalog
from shared.catalog.errors import CatalogError
from shared.quality.computation import Figure
from shared.quality.indicators import NOT_COMPUTABLE
from shared.quality.targets import TargetBook

_CENT = Decimal("0.01")


@dataclass(frozen=True)
class ReportRow:
    service: str
    office: str
    period: str
    period_start: date
    period_end: date
    indicator_id: str
    name: str
    numerator: int
    denominator: int
    value: Decimal | None
    """Percent, to two places; None when the denominator is 0."""
    target: Decimal | None
    target_source: str
    target_suspect: bool
    better: str
    meets_target: bool | None
    note: str | None


@dataclass(frozen=True)
class NotComputable:
    indicator_id: str
    name: str
    reason: str
    services: tuple[str, ...]


@dataclass(frozen=True)
class QualityReport:
    start: date
    end: date
    office: str | None
    service: str | None
    split: str
    rows: tuple[ReportRow, ...]
    not_computable: tuple[NotComputable, ...]
    sources: tuple[str, ...] = field(default=())
    """Which event stores were read (and any that were missing)."""


def percent(numerator: int, denominator: int) -> Decimal | None:
    if denominator == 0:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(_CENT, rounding=ROUND_HALF_UP)


def _meets(value: Decimal | None, target: Decimal | None, better: str) -> bool | None:
    if value is None or target is None:
        return None
    return value >= target if better == "higher" else value <= target


def report_rows(figures: Iterable[Figure], targets: TargetBook) -> list[ReportRow]:
    rows: list[ReportRow] = []
    for figure in figures:
        service, office, period = figure.key
        indicator = figure.indicator
        value = percent(figure.numerator, figure.denominator)
        if indicator.in_catalog:
            target = targets.target(indicator.id, service, figure.editions, figure.regions, period.end)
            target_value, source, suspect = target.value, target.source, target.suspect
            notes = [n for n in (figure.note, target.note) if n]
        else:
            target_value, source, suspect, notes = (
                None,
                "not a catalog indicator",
                False,
                list(filter(None, [figure.note])),
            )
        rows.append(
            ReportRow(
                service=service,
                office=office,
                period=period.label,
                period_start=period.start,
                period_end=period.end,
                indicator_id=indicator.id,
                name=indicator.name_en,
                numerator=figure.numerator,
                denominator=figure.denominator,
                value=value,
                target=target_value,
                target_source=source,
                target_suspect=suspect,
                better=indicator.better,
                meets_target=_meets(value, target_value, indicator.better),
                note="; ".join(notes) or None,
            )
        )
    return rows


def not_computable(catalog: Catalog, services: Iterable[str]) -> list[NotComputable]:
    """The catalog indicators of the reported services' profiles that the log cannot give."""
    names: dict[str, str] = {}
    used_by: dict[str, set[str]] = {}
    for service_id in sorted(set(services)):
        try:
            editions = catalog.service(service_id).editions
        except (CatalogError, LookupError):
            continue
        for edition in editions:
            for indicator in edition.quality_indicators:
                if indicator.id in NOT_COMPUTABLE:
                    names.setdefault(indicator.id, indicator.name_en)
                    used_by.setdefault(indicator.id, set()).add(service_id)
    return [
        NotComputable(i, names[i], NOT_COMPUTABLE[i], tuple(sorted(used_by[i])))
        for i in NOT_COMPUTABLE
        if i in used_by
    ]
