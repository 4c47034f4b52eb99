"""Routing as catalog data: the body and office per act, service and subject, with the seed
citation; acts without a complaint procedure are refused; the data file is checked strictly."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.complaints.adapters.catalog import ComplaintsCatalog
from shared.catalog.complaint_routing import FILE, NoProcedure, Routed, load_complaint_routing
from shared.catalog.errors import CatalogLoadError


def _route(catalog: ComplaintsCatalog, service: str, edition: str, subject: str, *, at_tson: bool = False,
           region: str = "karaganda", office: str = "karaganda-dept-01") -> Routed | NoProcedure:  # fmt: skip
    found = catalog.catalog.service(service).edition(edition)
    return catalog.routing.route(found, service, subject, region=region, office=office, at_tson=at_tson)


@pytest.mark.parametrize(
    ("service", "edition", "subject", "at_tson", "body", "office", "cited"),
    [
        # 000: the Басқарма where the standard names it, else the city / district akims.
        ("local_social_assistance", "krg_2008_standard", "decision", False,
         "oblast_department", "karaganda-oblast-department", "000 L1502-1518"),
        ("targeted_social_assistance", "krg_2008_standard", "decision", False,
         "akim_complaints", "karaganda-akimat", "L16182-16199"),
        ("targeted_social_assistance", "krg_2008_standard", "official_inaction", False,
         "akim_complaints", "karaganda-akimat", "L16182-16199"),
        # 002: the result -> the akim; improper service -> the ЦОН director or the village akim.
        ("personal_subsidiary_farm_certificate", "kz_std_2011", "decision", False,
         "akim_complaints", "karaganda-akimat", "002 L168-174"),
        ("personal_subsidiary_farm_certificate", "kz_std_2011", "official_action", True,
         "tson_head", "karaganda-dept-01", "002 L175-181"),
        ("personal_subsidiary_farm_certificate", "kz_std_2011", "official_action", False,
         "village_akim", "karaganda-dept-01", "002 L175-181"),
        # 004: MSE -> the territorial Department; new 394 standards -> the oblast department;
        # ГЦВП services -> the head of the branch; rude ЦОН staff -> the ЦОН head.
        ("disability_assessment_mse", "kz_std_393_new_2012", "decision", False,
         "territorial_department", "karaganda-territorial-department", "004 L28296"),
        ("disability_assessment_mse", "kz_std_393_new_2012", "official_action", False,
         "department_head", "karaganda-dept-01", "L28300"),
        ("tsa_recipient_certificate", "kz_std_394_new_2012", "intake_refusal", False,
         "oblast_department", "karaganda-oblast-department", "L40852-40856"),
        ("basic_state_pension_payment", "kz_std_393_as_restated_2012", "decision", False,
         "gcvp_head", "karaganda-gcvp-01", "ГЦВП"),
        # A ГЦВП decision on an application received at a ЦОН: the branch, not the ЦОН (004,
        # complaints.to of every ГЦВП service: 'head of the ГЦВП branch').
        ("basic_state_pension_payment", "kz_std_393_as_restated_2012", "decision", True,
         "gcvp_head", "karaganda-gcvp-01", "ГЦВП"),
        ("basic_state_pension_payment", "kz_std_393_as_restated_2012", "official_action", False,
         "gcvp_head", "karaganda-gcvp-01", "ГЦВП"),
        # Official conduct where the seed names only the authorised body / unit, even at an office
        # that once took a ЦОН-channel application: 004 L28300, L40860, L45046; burial, SIC.
        ("disability_assessment_mse", "kz_std_393_new_2012", "official_action", True,
         "department_head", "karaganda-dept-01", "L28300"),
        ("tsa_recipient_certificate", "kz_std_394_new_2012", "official_inaction", True,
         "department_head", "karaganda-dept-01", "L40860"),
        ("active_employment_referral", "kz_std_394_new_2012", "official_action", True,
         "department_head", "karaganda-dept-01", "L45046"),
        ("burial_lump_sum_payment", "kz_std_393_new_2012", "official_action", True,
         "gcvp_head", "karaganda-gcvp-01", "burial"),
        ("social_individual_code", "kz_std_393_new_2012", "official_inaction", True,
         "gcvp_head", "karaganda-gcvp-01", "SIC"),
        ("basic_state_pension_payment", "kz_std_393_as_restated_2012", "official_action", True,
         "tson_head", "karaganda-dept-01", "ЦОН"),
    ],
)  # fmt: skip
def test_each_subject_goes_to_the_body_its_act_names(
    complaints_catalog: ComplaintsCatalog,
    service: str,
    edition: str,
    subject: str,
    at_tson: bool,
    body: str,
    office: str,
    cited: str,
) -> None:
    routed = _route(complaints_catalog, service, edition, subject, at_tson=at_tson)
    assert isinstance(routed, Routed), routed
    assert (routed.body, routed.office) == (body, office)
    assert cited in routed.citation


@pytest.mark.parametrize(
    ("service", "edition", "why"),
    [
        ("targeted_social_assistance", "almaty_2012_regulation", "no complaint procedure"),  # 001
        ("targeted_social_assistance", "akmola_2012_regulation", "no complaint procedure"),  # 003
        ("unemployed_certificate", "akmola_2011_regulation", "no complaint procedure"),  # 003
        ("targeted_social_assistance", "kz_std_394_as_amended_2012", "no complaint procedure"),
    ],
)
def test_acts_without_a_complaint_procedure_are_refused(
    complaints_catalog: ComplaintsCatalog, service: str, edition: str, why: str
) -> None:
    for subject in ("decision", "intake_refusal", "official_action", "official_inaction"):
        refused = _route(complaints_catalog, service, edition, subject)
        assert isinstance(refused, NoProcedure) and why in refused.reason


def test_every_edition_with_a_complaints_addressee_is_routed(complaints_catalog: ComplaintsCatalog) -> None:
    for service in complaints_catalog.catalog.services:
        for edition in service.editions:
            if edition.complaints is None or not edition.complaints.to:
                continue
            for subject in ("decision", "intake_refusal", "official_action", "official_inaction"):
                routed = _route(complaints_catalog, service.id, edition.id, subject)
                assert isinstance(routed, Routed), (service.id, edition.id, subject, routed)


def test_the_routing_file_names_only_known_bodies_acts_and_services(
    complaints_catalog: ComplaintsCatalog, tmp_path: Path
) -> None:
    text = (complaints_catalog.catalog.data_dir / FILE).read_text(encoding="utf-8")
    broken = tmp_path / FILE
    broken.write_text(
        text.replace("body: territorial_department", "body: tribunal").replace(
            "act: gov_283_2011", "act: gov_999"
        ),
        encoding="utf-8",
    )
    with pytest.raises(CatalogLoadError) as refused:
        load_complaint_routing(complaints_catalog.catalog, broken)
    message = str(refused.value)
    assert "unknown body 'tribunal'" in message and "unknown legal act 'gov_999'" in message


def test_the_extended_term_is_a_labelled_effective_dated_default(
    complaints_catalog: ComplaintsCatalog,
) -> None:
    from datetime import date

    term = complaints_catalog.review_term("karaganda", date(2025, 3, 3), extended=True)
    assert (term.term.amount, term.term.unit.value) == (30, "calendar_days")
    assert "complaint_review_term_extended" in term.basis and "EXAMPLE/DEFAULT" in term.basis
    before = complaints_catalog.parameters.records("complaint_review_term_extended")[0]
    assert before.effective_from == date(2008, 1, 1) and before.example
    assert "No. 221" in (before.note or "")
    no_defaults = ComplaintsCatalog(complaints_catalog.catalog, complaints_catalog.routing, [])
    with pytest.raises(Exception, match="complaint_review_term"):
        no_defaults.review_term("karaganda", date(2025, 3, 3))


def test_the_gcvp_branch_is_derived_from_the_region_as_the_example_office_register_names_it(
    complaints_catalog: ComplaintsCatalog,
) -> None:
    routed = _route(
        complaints_catalog, "basic_state_pension_payment", "kz_std_393_as_restated_2012", "decision",
        region="almaty_city", office="almaty-city-tson-01", at_tson=True,
    )  # fmt: skip
    assert isinstance(routed, Routed)
    assert (routed.body, routed.office) == ("gcvp_head", "almaty-city-gcvp-01")
