"""Document conditions are machine-evaluable against application facts (three-valued)."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from shared.catalog import ApplicationFacts, Catalog, Requirement
from shared.catalog.conditions import Condition, evaluate

R, OPT, NA, U = (
    Requirement.REQUIRED,
    Requirement.OPTIONAL,
    Requirement.NOT_APPLICABLE,
    Requirement.UNDETERMINED,
)
CONDITION = TypeAdapter(Condition)


def test_unemployed_certificate_documents_by_status_and_channel(catalog: Catalog) -> None:
    edition = catalog.service("unemployed_certificate").edition("akmola_2011_regulation")
    citizen_at_tson = edition.document_requirements(ApplicationFacts(channel="tson", status="citizen"))
    assert citizen_at_tson == {
        "identity_card": R,
        "foreigner_residence_document": NA,
        "oralman_certificate": NA,
        "tson_application_form": R,
        "egov_identity_ecopy": NA,
    }
    foreigner_online = edition.document_requirements(
        ApplicationFacts(channel="egov_portal", status="foreigner")
    )
    assert foreigner_online["egov_identity_ecopy"] == R
    assert foreigner_online["foreigner_residence_document"] == NA
    unknown_status = edition.document_requirements(ApplicationFacts(channel="department"))
    assert unknown_status["identity_card"] == U and unknown_status["tson_application_form"] == R


def test_hearing_aids_by_subtype_category_and_age(catalog: Catalog) -> None:
    edition = catalog.service("hearing_vision_hygiene_aids_docs").edition("krg_2008_standard")
    veteran = ApplicationFacts(
        subtype="surdo_technical_means", categories=frozenset({"gpw_participant"}), age=88
    )
    needs = edition.document_requirements(veteran)
    assert needs["dkk_conclusion"] == R and needs["rehabilitation_programme"] == NA
    child = ApplicationFacts(
        subtype="surdo_technical_means", categories=frozenset({"disabled", "disabled_child"}), age=12
    )
    needs = edition.document_requirements(child)
    assert needs["child_birth_certificate_and_parent_id"] == R and needs["dkk_conclusion"] == NA
    older_child = ApplicationFacts(
        subtype="surdo_technical_means", categories=frozenset({"disabled_child"}), age=17
    )
    assert edition.document("child_birth_certificate_and_parent_id").requirement(older_child) == NA
    proxy = ApplicationFacts(
        subtype="mandatory_hygiene_products", representative=True, categories=frozenset()
    )
    # 000 L4055-4057: a representative acts only on such a power of attorney (unnotarised is enough).
    assert edition.document("power_of_attorney_unnotarised").requirement(proxy) == R


def test_burial_documents_by_applicant_type(catalog: Catalog) -> None:
    edition = catalog.service("burial_lump_sum_payment").edition("kz_std_393_new_2012")
    company = edition.document_requirements(ApplicationFacts(applicant_type="legal_entity"))
    assert company["legal_entity_registration_copy"] == R
    assert company["burier_identity_copy"] == NA and company["entrepreneur_patent_copy"] == NA
    entrepreneur = edition.document_requirements(ApplicationFacts(applicant_type="individual_entrepreneur"))
    assert entrepreneur["entrepreneur_patent_copy"] == R and entrepreneur["burier_identity_copy"] == R


def test_mse_documents_by_age_and_validity(catalog: Catalog) -> None:
    edition = catalog.service("disability_assessment_mse").edition("kz_std_393_new_2012")
    assert edition.document("identity_document_copy").requirement(ApplicationFacts(age=16)) == R
    assert edition.document("birth_certificate_copy").requirement(ApplicationFacts(age=15)) == R
    assert edition.document("birth_certificate_copy").requirement(ApplicationFacts(age=16)) == NA
    max_age = edition.document("form_088u").max_age
    assert max_age is not None and (max_age.value, max_age.unit) == (1, "months")
    occupational = edition.document("occupational_disease_conclusion")
    assert occupational.max_age is not None and (occupational.max_age.value, occupational.max_age.unit) == (
        2,
        "years",
    )


def test_notarised_copies_at_the_tson(catalog: Catalog) -> None:
    edition = catalog.service("basic_state_pension_payment").edition("kz_std_393_as_restated_2012")
    assert edition.document("identity_document_copy").notarised_copy_at == ("tson", "mobile_tson")
    assert edition.document("application").notarised_copy_at == ()


def test_three_valued_logic() -> None:
    both = CONDITION.validate_python({"all": [{"status": ["citizen"]}, {"channel": ["tson"]}]})
    either = CONDITION.validate_python({"any": [{"status": ["citizen"]}, {"channel": ["tson"]}]})
    negated = CONDITION.validate_python({"not": {"category": ["disabled"]}})
    assert evaluate(both, ApplicationFacts(status="foreigner")) is False
    assert evaluate(both, ApplicationFacts(status="citizen")) is None
    assert evaluate(either, ApplicationFacts(status="citizen")) is True
    assert evaluate(either, ApplicationFacts(status="foreigner")) is None
    assert evaluate(negated, ApplicationFacts()) is None
    assert evaluate(negated, ApplicationFacts(categories=frozenset())) is True
    assert evaluate("always", ApplicationFacts()) is True


def test_conditions_round_trip_to_yaml_shape() -> None:
    data = {"all": [{"subtype": ["x"]}, {"not": {"age_under": 16}}, {"representative": True}]}
    assert CONDITION.dump_python(CONDITION.validate_python(data), mode="json") == data


@pytest.mark.parametrize(
    "bad", ["never", {"status": ["a"], "channel": ["b"]}, {"colour": ["red"]}, {"all": []}]
)
def test_malformed_conditions_are_rejected(bad: object) -> None:
    with pytest.raises(ValidationError):
        CONDITION.validate_python(bad)
