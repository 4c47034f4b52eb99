"""Reference data the editions point to: regions, channels, actors, legal acts, office hours,
quality-indicator profiles and the glossary (one data file each under `data/`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Self

from pydantic import Field, PositiveInt, model_validator

from shared.catalog.strict import ID_PATTERN, Id, Strict, require_unique
from shared.catalog.vocabulary import RegionKind


class Region(Strict):
    id: Id = Field(pattern=ID_PATTERN)
    name_kk: str
    name_en: str
    kind: RegionKind
    time_zone: str
    """IANA time zone as zoneinfo names it (all of Kazakhstan is UTC+5 since 2024-03-01)."""
    established: date | None = None
    note: str | None = None


class Channel(Strict):
    id: Id = Field(pattern=ID_PATTERN)
    name_en: str
    name_kk: str | None = None


class Actor(Strict):
    id: Id = Field(pattern=ID_PATTERN)
    name_en: str
    terms: str | None = None
    may: tuple[str, ...] = ()


class ActRegistration(Strict):
    date: date
    number: str
    by: str
    note: str | None = None


class ActRepeal(Strict):
    act: str
    date: date
    note: str | None = None


class SeedReference(Strict):
    file: str
    lines: str


class LegalAct(Strict):
    id: Id = Field(pattern=ID_PATTERN)
    kind: str
    issuer: str
    number: str
    date: date
    registered: ActRegistration | None = None
    approves: str
    in_force_note: str
    repealed_by: ActRepeal | None = None
    source: SeedReference
    common_edit: str | None = None


class OfficeHoursProfile(Strict):
    id: Id = Field(pattern=ID_PATTERN)
    text: str
    source: str
    suspect: bool = False


class QualityIndicator(Strict):
    id: Id = Field(pattern=ID_PATTERN)
    number: str
    name_en: str
    target_percent: Decimal | None = None
    """The "normative value" printed in the seed; None = blank (set yearly: parameter quality_targets)."""
    target_range_percent: tuple[Decimal, Decimal] | None = None
    threshold_min: PositiveInt | None = None
    suspect: bool = False
    note: str | None = None


class QualityIndicatorProfile(Strict):
    id: Id = Field(pattern=ID_PATTERN)
    used_in: str
    source: str
    targets_set_by: str | None = None
    note: str | None = None
    indicators: tuple[QualityIndicator, ...]

    @model_validator(mode="after")
    def _ids_unique(self) -> Self:
        require_unique([i.id for i in self.indicators], "indicator")
        return self


class GlossaryEntry(Strict):
    term: str
    gloss: str
