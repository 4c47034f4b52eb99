"""The service catalog as the intake domain sees it (`CatalogPort`), over `shared.catalog`.

Editions are chosen with the administrator's adoptions (the shipped example adoptions unless
others are given): every seed act is repealed, so without an adoption nothing is in force today.
Term parameters (a district maslikhat's housing assistance term) come from the parameter book:
the shipped EXAMPLE values unless excluded, plus the values administrators recorded; adoptions
administrators recorded replace the example ones (`use_stored`, refreshed by
`service_layer.parameters.StoredParameterRefresh`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from services.intake.domain.ports import Due, Office
from shared.catalog.catalog import Catalog
from shared.catalog.deadlines import Term, application_due_at, forwarding_from
from shared.catalog.editions import AdoptionRecord, EditionChoice
from shared.catalog.errors import UnknownChannel
from shared.catalog.models import Edition, Service
from shared.catalog.parameters import ParameterBook, ParameterRecord, ResolvedValue, TermValue, district_key
from shared.catalog.stored_parameters import with_examples


class CatalogAdapter:
    def __init__(
        self,
        catalog: Catalog,
        adoptions: Iterable[AdoptionRecord],
        parameters: ParameterBook | None = None,
        *,
        include_examples: bool = True,
    ) -> None:
        from shared.catalog.loader import load_parameter_book

        self.catalog = catalog
        self.adoptions = tuple(adoptions)
        self._example_adoptions = self.adoptions
        self.include_examples = include_examples
        self._base = parameters or load_parameter_book(catalog, include_examples=include_examples)
        self.parameters = self._base
        self._categories = catalog.condition_vocabulary.category_ids()

    def use_stored(self, stored: Iterable[ParameterRecord], adoptions: Iterable[AdoptionRecord] = ()) -> None:
        """The base values plus the records administrators stored (a stored record beats an example);
        the given adoptions plus the administrators' (which replace them per service and region)."""
        self.adoptions = tuple(with_examples(list(adoptions), self._example_adoptions))
        base = [r for pid in self._base.definitions for r in self._base.records(pid)]
        self.parameters = ParameterBook(
            self._base.definitions.values(), [*base, *stored], regions=[r.id for r in self.catalog.regions]
        )

    @property
    def adoptions(self) -> tuple[AdoptionRecord, ...]:
        return self._adoptions

    @adoptions.setter
    def adoptions(self, adoptions: tuple[AdoptionRecord, ...]) -> None:
        # Indexed by (service, region): only those can cover an application, and a submission
        # otherwise tested every adoption of every service (issue 14: ~0.1 ms a submission).
        by_service_region: dict[tuple[str, str], list[AdoptionRecord]] = {}
        for adoption in adoptions:
            by_service_region.setdefault((adoption.service, adoption.region), []).append(adoption)
        self._adoptions = adoptions
        self._by_service_region = {k: tuple(v) for k, v in by_service_region.items()}

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
        adoptions = self._by_service_region.get((service_id, region), ())
        return self.catalog.resolve_edition(service_id, region, on_date, adoptions)

    def due(
        self,
        service: Service,
        edition: Edition,
        channel: str,
        accepted_at: datetime,
        office: Office,
        subtype: str | None,
    ) -> Due:
        on = accepted_at.astimezone(office.zone).date()
        key = district_key(office.region, office.district)
        used: list[ResolvedValue] = []

        def term_parameter(parameter_id: str) -> Term:
            resolved = self.parameters.lookup(parameter_id, key, on)
            if not isinstance(resolved.value, TermValue):
                raise TypeError(f"parameter {parameter_id!r} is not a term")
            used.append(resolved)
            return Term(resolved.value.amount, resolved.value.unit)

        at = application_due_at(
            service,
            edition,
            channel,
            accepted_at,
            office.zone,
            subtype,
            policy=self.catalog.deadline_policy,
            term_parameter=term_parameter,
        )
        notes = [_parameter_note(r) for r in used]
        forwarding = forwarding_from(edition, channel)
        if forwarding is not None:
            notes.append(
                f"counted from the {forwarding.to} registration: the {channel} forwards within"
                f" {forwarding.max} {forwarding.unit}, the day of acceptance not counted"
                f" ({edition.source.file[:3]} {forwarding.source or 'sla.forwarding'})"
            )
        return Due(at, "; ".join(notes) or None)

    def edition(self, service_id: str, edition_id: str) -> Edition:
        return self.catalog.service(service_id).edition(edition_id)


def _parameter_note(resolved: ResolvedValue) -> str:
    record = resolved.record
    value = resolved.value
    assert isinstance(value, TermValue)
    said = f"term {value.amount} {value.unit} from parameter {record.parameter} [{record.region}]"
    if record.example:
        return f"{said}: an EXAMPLE value, not law; the district's term is set with qyzmet params set"
    return f"{said} ({record.source})"


def default_catalog(*, include_examples: bool = True) -> CatalogAdapter:
    """The shipped catalog with its EXAMPLE adoptions (and EXAMPLE parameter values unless excluded)."""
    from shared.catalog.loader import load_catalog, load_example_adoptions

    catalog = load_catalog()
    return CatalogAdapter(catalog, load_example_adoptions(catalog), include_examples=include_examples)
