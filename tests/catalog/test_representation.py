"""Per service: must a representative present a power of attorney, and must it be notarised?

Pinned from the seed text (the citations are in the catalog data, `representation.source`);
shared/domain/services.yaml marked several of these optional.
"""

from __future__ import annotations

import pytest

from shared.catalog import ApplicationFacts, Catalog, Requirement
from shared.catalog.vocabulary import Coverage

# service -> (edition, power of attorney required?, notarisation, the document, seed lines)
REQUIRED = {
    "child_benefit_under_18": ("krg_2008_standard", "not_stated", "power_of_attorney", "000 L5338-5341"),
    "childbirth_and_childcare_benefits": (
        "kz_std_393_as_restated_2012",
        "not_stated",
        "power_of_attorney",
        "004 L16152",
    ),
    "disabled_child_carer_allowance": (
        "kz_std_393_new_2012",
        "not_stated",
        "power_of_attorney",
        "004 L33478",
    ),
    "hearing_vision_hygiene_aids_docs": (
        "krg_2008_standard",
        "not_required",
        "power_of_attorney_unnotarised",
        "000 L4055-4057",
    ),
    "pension_savings_account_info": (
        "kz_std_393_new_2012",
        "required",
        "notarised_power_of_attorney",
        "004 L23413",
    ),
    "social_individual_code": (
        "kz_std_393_new_2012",
        "required",
        "notarised_power_of_attorney",
        "004 L30460",
    ),
}
"""Every other service's seed names no power of attorney (`not_stated`)."""


def test_every_full_edition_says_what_a_representative_needs(catalog: Catalog) -> None:
    for service in catalog.services:
        for edition in service.editions:
            if edition.coverage is Coverage.AMENDMENT_ONLY:
                assert edition.representation is None, (service.id, edition.id)
                continue
            rep = edition.representation
            assert rep is not None, (service.id, edition.id)
            if service.id in REQUIRED and edition.id == REQUIRED[service.id][0]:
                _, notarised, document, source = REQUIRED[service.id]
                assert (rep.power_of_attorney, rep.notarised, rep.document, rep.source) == (
                    "required",
                    notarised,
                    document,
                    source,
                ), service.id
            else:
                assert (rep.power_of_attorney, rep.notarised, rep.document) == (
                    "not_stated",
                    "not_stated",
                    None,
                ), (
                    service.id,
                    edition.id,
                )


@pytest.mark.parametrize("service_id", sorted(REQUIRED))
def test_the_power_of_attorney_is_a_required_document_for_a_representative(
    catalog: Catalog, service_id: str
) -> None:
    service = catalog.service(service_id)
    edition_id, _, document, _ = REQUIRED[service_id]
    edition = service.edition(edition_id)
    subtype = "mandatory_hygiene_products" if service.subtypes else None
    channel = edition.channels[0]
    proxy = ApplicationFacts(channel=channel, subtype=subtype, representative=True, categories=frozenset())
    alone = ApplicationFacts(channel=channel, subtype=subtype, representative=False, categories=frozenset())
    assert edition.document(document).requirement(proxy) is Requirement.REQUIRED
    assert edition.document(document).requirement(alone) is Requirement.NOT_APPLICABLE
