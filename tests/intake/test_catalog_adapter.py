"""The intake catalog chooses an edition from the adoptions of the application's service and region
only (indexed, issue 14), with the same outcome as the catalog's choice over every adoption."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial

import pytest

from services.intake.adapters.catalog import CatalogAdapter, default_catalog
from shared.catalog.editions import AdoptionRecord, EditionChoice
from shared.catalog.errors import CatalogError


def _choice(choose: Callable[[], EditionChoice]) -> tuple[str, str] | str:
    try:
        found = choose()
    except CatalogError as exc:
        return type(exc).__name__
    return found.edition.id, found.basis.value


@pytest.mark.parametrize("on", [date(2020, 1, 1), date(2026, 12, 4)])
def test_the_indexed_choice_equals_the_choice_over_every_adoption(on: date) -> None:
    adapter = default_catalog()
    catalog = adapter.catalog
    assert adapter.adoptions, "the shipped example adoptions"
    adopted = 0
    for service in catalog.services:
        for region in catalog.regions:
            indexed = _choice(partial(adapter.choose_edition, service.id, region.id, on))
            every = _choice(partial(catalog.resolve_edition, service.id, region.id, on, adapter.adoptions))
            assert indexed == every, (service.id, region.id)
            adopted += indexed[1:] == ("adoption",)
    assert adopted, "some service is adopted somewhere"


def test_stored_adoptions_replace_the_index(catalog: CatalogAdapter) -> None:
    adapter = CatalogAdapter(catalog.catalog, catalog.adoptions)
    example = next(a for a in adapter.adoptions if a.region == "karaganda")
    service = adapter.service(example.service)
    other = next((e for e in service.editions if e.id != example.edition), None)
    if other is None:
        pytest.skip("the adopted service has one edition")
    on = date(2026, 12, 4)
    adopted = AdoptionRecord(
        service=example.service, edition=other.id, region="karaganda",
        effective_from=date(2026, 1, 1), adopted_by="admin@karaganda", reason="test",
    )  # fmt: skip
    adapter.use_stored([], [adopted])
    assert adapter.choose_edition(example.service, "karaganda", on).edition.id == other.id
    adapter.use_stored([], [])
    assert adapter.choose_edition(example.service, "karaganda", on).edition.id == example.edition
