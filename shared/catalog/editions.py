"""Which edition governs an application: the law in force, or an administrator's adoption.

Every seed act was repealed between 2009 and 2014, so on today's dates no edition is in force.
To run on the seeds' rules, an administrator *adopts* an edition for a region from a date
(`AdoptionRecord`). Semantics of `select_edition`:

1. Adoption first. Among the adoptions of (service, region) whose [effective_from, effective_to)
   contains the date, the one with the latest effective_from wins (a later adoption supersedes an
   earlier one). An adoption is an explicit, recorded decision, so it overrides the real law for
   the dates it covers; two adoptions from the same date naming different editions are refused.
2. Otherwise the edition really in force (`Service.edition_in_force`: regional before national).
3. Otherwise `NoEditionInForce`. The catalog never falls back to a nearby edition by itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.catalog.errors import AmbiguousEdition, NoEditionInForce
from shared.catalog.models import Edition, Service


class AdoptionRecord(BaseModel):
    """An administrator's decision to apply `edition` of `service` in `region` from a date."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service: str
    edition: str
    region: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    effective_from: date
    effective_to: date | None = None
    """Exclusive end; None = until superseded by a later adoption."""
    adopted_by: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    example: bool = False
    """True for the shipped example adoptions (not an administrator's decision)."""

    @model_validator(mode="after")
    def _period(self) -> Self:
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise ValueError("effective_to must be after effective_from")
        return self

    def covers(self, service_id: str, region: str, on_date: date) -> bool:
        return (
            self.service == service_id
            and self.region == region
            and self.effective_from <= on_date
            and (self.effective_to is None or on_date < self.effective_to)
        )


class EditionBasis(StrEnum):
    ADOPTION = "adoption"
    IN_FORCE = "in_force"


@dataclass(frozen=True)
class EditionChoice:
    """The edition chosen for an application and why (store `edition.id` and `basis` on decisions)."""

    edition: Edition
    basis: EditionBasis
    adoption: AdoptionRecord | None = None


def select_edition(
    service: Service, region: str, on_date: date, adoptions: Iterable[AdoptionRecord] = ()
) -> EditionChoice:
    """Choose the edition for an application in `region` on `on_date` (see module docstring)."""
    covering = [a for a in adoptions if a.covers(service.id, region, on_date)]
    if covering:
        latest_start = max(a.effective_from for a in covering)
        latest = [a for a in covering if a.effective_from == latest_start]
        editions = sorted({a.edition for a in latest})
        if len(editions) > 1:
            raise AmbiguousEdition(service.id, region, on_date, editions)
        adoption = latest[0]
        return EditionChoice(service.edition(adoption.edition), EditionBasis.ADOPTION, adoption)
    try:
        return EditionChoice(service.edition_in_force(region, on_date), EditionBasis.IN_FORCE)
    except NoEditionInForce:
        raise NoEditionInForce(service.id, region, on_date) from None
