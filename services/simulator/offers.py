"""What each desk can be asked for: every (office, channel, service) the catalog and the office
register allow today, with the edition intake will choose and that edition's documents.

Only catalog data: the edition comes from the catalog's edition selection with the example
adoptions (as the intake service chooses it unless an administrator adopted another), the
documents and refusal grounds from that edition. A service known only from an amendment, or not
offered through any channel the office operates, is left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from services.intake.domain.intake import income_tested
from services.intake.domain.ports import Office
from shared.catalog.catalog import Catalog
from shared.catalog.editions import AdoptionRecord
from shared.catalog.errors import CatalogError
from shared.catalog.vocabulary import GroundEffect


@dataclass(frozen=True)
class Offer:
    """One kind of application one desk receives."""

    office_id: str
    office_kind: str
    region: str
    channel: str
    service_id: str
    edition_id: str
    documents: tuple[str, ...]
    """Every document the edition lists (presenting one that does not apply is not an error)."""
    droppable: tuple[str, ...]
    """Required documents that apply to everyone: leaving one out makes intake refuse."""
    income_tested: bool
    refusal_grounds: tuple[str, ...]
    inspection: bool
    """The edition names an inspection of living conditions (required or conditional)."""


def offers_for(
    catalog: Catalog, offices: Iterable[Office], adoptions: Sequence[AdoptionRecord], on_date: date
) -> list[Offer]:
    """Every offer of every office, in a stable order (office, service, channel)."""
    found: list[Offer] = []
    for office in offices:
        for service in catalog.services:
            try:
                choice = catalog.resolve_edition(service.id, office.region, on_date, adoptions)
            except CatalogError:
                continue
            edition = choice.edition
            if service.standard_missing((edition,)) is not None:
                continue
            documents = tuple(d.id for d in edition.documents)
            droppable = tuple(d.id for d in edition.documents if d.required and d.applies_when == "always")
            grounds = tuple(g.id for g in edition.refusal_grounds if g.effect is GroundEffect.REFUSE)
            for channel in office.channels:
                if channel not in edition.channels:
                    continue
                found.append(
                    Offer(
                        office_id=office.id,
                        office_kind=office.kind,
                        region=office.region,
                        channel=channel,
                        service_id=service.id,
                        edition_id=edition.id,
                        documents=documents,
                        droppable=droppable,
                        income_tested=income_tested(edition),
                        refusal_grounds=grounds,
                        inspection=edition.inspection is not None,
                    )
                )
    return found


def default_offers(on_date: date) -> list[Offer]:
    """The offers of the shipped catalog, example adoptions and the intake service's office register."""
    from services.intake.adapters.offices import load_offices
    from shared.catalog.example_data import load_example_adoptions
    from shared.catalog.loader import load_catalog

    catalog = load_catalog()
    return offers_for(catalog, load_offices().all(), load_example_adoptions(catalog), on_date)
