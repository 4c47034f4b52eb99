"""Edition selection: the law in force, administrator adoptions, and refusals to guess."""

from __future__ import annotations

from datetime import date

import pytest

from shared.catalog import (
    AdoptionRecord,
    AmbiguousEdition,
    Catalog,
    EditionBasis,
    NoEditionInForce,
    UnknownEdition,
    UnknownRegion,
    UnknownService,
)
from shared.catalog.vocabulary import Coverage


def _adopt(service: str, edition: str, region: str, start: str, end: str | None = None) -> AdoptionRecord:
    return AdoptionRecord(
        service=service,
        edition=edition,
        region=region,
        effective_from=date.fromisoformat(start),
        effective_to=date.fromisoformat(end) if end else None,
        adopted_by="admin@test",
        reason="test",
    )


def test_regional_edition_wins_over_national(catalog: Catalog) -> None:
    tsa = catalog.service("targeted_social_assistance")
    on = date(2012, 12, 1)
    assert [e.id for e in tsa.editions_in_force("akmola", on)] == [
        "akmola_2012_regulation",
        "kz_std_394_as_amended_2012",
    ]
    assert catalog.edition_in_force("targeted_social_assistance", "akmola", on).id == "akmola_2012_regulation"
    assert (
        catalog.edition_in_force("targeted_social_assistance", "pavlodar", on).id
        == "kz_std_394_as_amended_2012"
    )


def test_period_is_half_open(catalog: Catalog) -> None:
    service = catalog.service("unemployed_registration")
    assert service.edition_in_force("karaganda", date(2008, 11, 25)).id == "krg_2008_standard"
    assert service.edition_in_force("karaganda", date(2009, 7, 6)).id == "krg_2008_standard"
    with pytest.raises(NoEditionInForce):
        service.edition_in_force("karaganda", date(2009, 7, 7))
    assert service.edition_in_force("karaganda", date(2011, 4, 7)).id == "kz_std_394_as_amended_2012"


def test_regional_edition_applies_only_in_its_region(catalog: Catalog) -> None:
    with pytest.raises(NoEditionInForce):
        catalog.edition_in_force("housing_assistance", "akmola", date(2009, 1, 1))
    assert (
        catalog.edition_in_force("housing_assistance", "karaganda", date(2009, 1, 1)).id
        == "krg_2008_standard"
    )


def test_no_edition_in_force_names_service_region_and_date(catalog: Catalog) -> None:
    with pytest.raises(NoEditionInForce) as info:
        catalog.edition_for("basic_state_pension_payment", "astana", date(2026, 11, 20))
    error = info.value
    assert (error.service, error.region, error.date) == (
        "basic_state_pension_payment",
        "astana",
        date(2026, 11, 20),
    )
    message = str(error)
    assert "basic_state_pension_payment" in message and "astana" in message and "2026-11-20" in message


AMENDMENT_ONLY_SERVICES = {
    "personal_assistant_sign_language_docs",
    "wheelchair_docs",
    "sanatorium_treatment_docs",
}
"""Known only from an amendment in the seeds: no documents, channels or term, so never adopted."""


def _offerable(catalog: Catalog) -> list[str]:
    return [s.id for s in catalog.services if any(e.coverage is Coverage.FULL for e in s.editions)]


def test_example_adoptions_make_every_offerable_service_selectable_today(
    catalog: Catalog, adoptions: tuple[AdoptionRecord, ...]
) -> None:
    today = date(2026, 11, 20)
    assert {s.id for s in catalog.services} - set(_offerable(catalog)) == AMENDMENT_ONLY_SERVICES
    for service_id in _offerable(catalog):
        for region in catalog.regions:
            choice = catalog.resolve_edition(service_id, region.id, today, adoptions)
            assert choice.basis is EditionBasis.ADOPTION
            assert choice.adoption is not None and choice.adoption.example
            assert choice.edition.coverage is Coverage.FULL
    for service_id in AMENDMENT_ONLY_SERVICES:
        # Only the law itself (an amending act with no repeal in the seeds) names an edition,
        # which has no content: intake refuses it as "standard not in the catalog".
        choice = catalog.resolve_edition(service_id, "astana", today, adoptions)
        assert choice.basis is EditionBasis.IN_FORCE and choice.adoption is None
        assert choice.edition.coverage is Coverage.AMENDMENT_ONLY


def test_example_adoptions_cover_every_offerable_service_and_region_once(
    catalog: Catalog, adoptions: tuple[AdoptionRecord, ...]
) -> None:
    pairs = [(a.service, a.region) for a in adoptions]
    assert len(pairs) == len(set(pairs)) == len(_offerable(catalog)) * len(catalog.regions)
    assert not {a.service for a in adoptions} & AMENDMENT_ONLY_SERVICES
    for adoption in adoptions:
        edition = catalog.service(adoption.service).edition(adoption.edition)
        assert adoption.effective_from == edition.effective_from
        assert adoption.example and "EXAMPLE" in adoption.reason


def test_example_adoptions_pick_the_latest_usable_edition(
    catalog: Catalog, adoptions: tuple[AdoptionRecord, ...]
) -> None:
    chosen = {a.service: a.edition for a in adoptions if a.region == "astana"}
    assert chosen["targeted_social_assistance"] == "akmola_2012_regulation"  # Almaty 2012 gives no total term
    assert chosen["unemployed_certificate"] == "akmola_2011_regulation"
    assert chosen["unemployed_registration"] == "krg_2008_standard"  # the 2011 edition is amendment-only
    assert "wheelchair_docs" not in chosen  # its only edition is an amendment: no standard to apply
    for service in catalog.services:
        if service.id in AMENDMENT_ONLY_SERVICES:
            continue
        edition = service.edition(chosen[service.id])
        full = [e for e in service.editions if e.coverage is Coverage.FULL]
        if full:
            assert edition.coverage is Coverage.FULL


def test_adoption_overrides_the_law_in_force(catalog: Catalog, adoptions: tuple[AdoptionRecord, ...]) -> None:
    on = date(2013, 1, 10)
    assert (
        catalog.edition_for("targeted_social_assistance", "almaty_region", on).id == "almaty_2012_regulation"
    )
    choice = catalog.resolve_edition("targeted_social_assistance", "almaty_region", on, adoptions)
    assert (choice.edition.id, choice.basis) == ("akmola_2012_regulation", EditionBasis.ADOPTION)


def test_without_a_covering_adoption_the_law_applies(
    catalog: Catalog, adoptions: tuple[AdoptionRecord, ...]
) -> None:
    choice = catalog.resolve_edition("targeted_social_assistance", "karaganda", date(2009, 1, 15), adoptions)
    assert (choice.edition.id, choice.basis, choice.adoption) == (
        "krg_2008_standard",
        EditionBasis.IN_FORCE,
        None,
    )


def test_later_adoption_supersedes_earlier_and_periods_end(catalog: Catalog) -> None:
    records = [
        _adopt("targeted_social_assistance", "krg_2008_standard", "pavlodar", "2020-01-01"),
        _adopt(
            "targeted_social_assistance", "akmola_2012_regulation", "pavlodar", "2024-01-01", "2025-01-01"
        ),
    ]
    select = catalog.edition_for
    assert (
        select("targeted_social_assistance", "pavlodar", date(2023, 6, 1), records).id == "krg_2008_standard"
    )
    assert (
        select("targeted_social_assistance", "pavlodar", date(2024, 6, 1), records).id
        == "akmola_2012_regulation"
    )
    assert (
        select("targeted_social_assistance", "pavlodar", date(2025, 6, 1), records).id == "krg_2008_standard"
    )
    # Not adopted in Atyrau: the national amendment-only edition (repeal not in the seeds) applies.
    assert (
        select("targeted_social_assistance", "atyrau", date(2024, 6, 1), records).id
        == "kz_std_394_as_amended_2012"
    )
    with pytest.raises(NoEditionInForce):
        select("targeted_social_assistance", "atyrau", date(2010, 6, 1), records)


def test_two_adoptions_from_the_same_date_are_refused(catalog: Catalog) -> None:
    records = [
        _adopt("targeted_social_assistance", "krg_2008_standard", "pavlodar", "2024-01-01"),
        _adopt("targeted_social_assistance", "akmola_2012_regulation", "pavlodar", "2024-01-01"),
    ]
    with pytest.raises(AmbiguousEdition, match="adopt one explicitly"):
        catalog.edition_for("targeted_social_assistance", "pavlodar", date(2024, 6, 1), records)


def test_adoption_of_a_missing_edition_fails(catalog: Catalog) -> None:
    records = [_adopt("targeted_social_assistance", "nope", "pavlodar", "2024-01-01")]
    with pytest.raises(UnknownEdition):
        catalog.edition_for("targeted_social_assistance", "pavlodar", date(2024, 6, 1), records)


def test_unknown_service_and_region(catalog: Catalog) -> None:
    with pytest.raises(UnknownService, match="'nope'"):
        catalog.edition_for("nope", "akmola", date(2012, 1, 1))
    with pytest.raises(UnknownRegion, match="'national'"):
        catalog.edition_for("targeted_social_assistance", "national", date(2012, 1, 1))


def test_adoption_period_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="effective_to must be after effective_from"):
        _adopt("x", "y", "akmola", "2024-01-01", "2023-01-01")
