"""The project's catalog data is complete and faithful to shared/domain/services.yaml."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from shared.catalog import ApplicationFacts, Catalog
from shared.catalog.conditions import evaluate
from shared.catalog.loader import DEFAULT_DATA_DIR
from shared.catalog.vocabulary import Coverage
from tests.catalog.reference import load_reference, reference_ids_from_copy

REGION_IDS = {
    "Karaganda oblast": "karaganda",
    "Akmola oblast": "akmola",
    "Almaty oblast": "almaty_region",
    "national": "national",
}


ADDED_RULES = {
    ("targeted_social_assistance", "akmola_2012_regulation"): {
        "unemployed_registration_test": "003 L115-120: the closed list of registration exemptions",
        "commission_conclusion": "003 L141-152, L4372-4566: the department decides on the conclusion",
    }
}
"""Rules the project states beyond the reference, each with the seed lines it reads."""


def _ours(service_id: str, edition: Any, key: str) -> list[Any]:
    if key != "rules":
        return list(getattr(edition, key))
    added = ADDED_RULES.get((service_id, edition.id), {})
    return [x for x in edition.rules if x.id not in added]


def _resolved(service: dict[str, Any], edition: dict[str, Any], key: str) -> Any:
    """services.yaml RESOLUTION RULE: the edition's value if present, else the service's."""
    return edition[key] if key in edition else service.get(key)


def test_service_ids_equal_the_reference(catalog: Catalog) -> None:
    ours = [s.id for s in catalog.services]
    data = load_reference()
    expected = [s["id"] for s in data["services"]] if data is not None else reference_ids_from_copy()
    assert set(ours) == set(expected)
    assert len(ours) == len(expected) == 30


def test_id_copy_matches_the_catalog(catalog: Catalog) -> None:
    assert reference_ids_from_copy() == [s.id for s in catalog.services]


@pytest.mark.parametrize(
    "key", ["documents", "steps", "refusal_grounds", "termination_grounds", "rules", "results", "forms"]
)
def test_item_counts_per_service_equal_the_reference(
    catalog: Catalog, reference: dict[str, Any], key: str
) -> None:
    for service in reference["services"]:
        expected = sum(len(_resolved(service, e, key) or []) for e in service["editions"])
        ours = catalog.service(service["id"])
        assert sum(len(_ours(ours.id, e, key)) for e in ours.editions) == expected, (service["id"], key)


def test_item_ids_per_edition_equal_the_reference(catalog: Catalog, reference: dict[str, Any]) -> None:
    for service in reference["services"]:
        ours = catalog.service(service["id"])
        assert [e.id for e in ours.editions] == [e["edition_id"] for e in service["editions"]]
        for edition in service["editions"]:
            mine = ours.edition(edition["edition_id"])
            for key in ("documents", "refusal_grounds", "termination_grounds", "rules", "results"):
                assert [x.id for x in _ours(ours.id, mine, key)] == [
                    x["id"] for x in _resolved(service, edition, key) or []
                ]
            steps = _resolved(service, edition, "steps") or []
            assert [s.action for s in mine.steps] == [s["action"] for s in steps]
            assert [" | ".join(s.actors) for s in mine.steps] == [s["actor"] for s in steps]
            assert len(mine.e_channel_steps) == len(edition.get("e_channel_steps", []))


def test_editions_keep_dates_regions_and_citations(catalog: Catalog, reference: dict[str, Any]) -> None:
    for service in reference["services"]:
        for edition in service["editions"]:
            mine = catalog.service(service["id"]).edition(edition["edition_id"])
            assert mine.region == REGION_IDS[edition["region"]]
            assert mine.effective_from.isoformat() == edition["effective_from"]
            assert (mine.effective_to.isoformat() if mine.effective_to else None) == edition["effective_to"]
            assert mine.act == edition["act"]
            assert mine.source.file == edition["source"]["file"]
            assert mine.source.lines == edition["source"]["lines"]


def test_documents_keep_their_text_and_requirement(catalog: Catalog, reference: dict[str, Any]) -> None:
    for service in reference["services"]:
        for edition in service["editions"]:
            mine = catalog.service(service["id"]).edition(edition["edition_id"])
            for theirs, doc in zip(
                _resolved(service, edition, "documents") or [], mine.documents, strict=True
            ):
                rep = mine.representation
                audited = rep is not None and rep.document == doc.id and rep.audit is not None
                # A power of attorney the reference marks optional where the seed requires it: the
                # catalog corrects it and says so (representation.audit, with the seed lines).
                assert (doc.condition_text, doc.required, doc.name_kk) == (
                    theirs["condition"],
                    True if audited else theirs["required"],
                    theirs["name_kk"],
                )


def test_sla_values_are_kept(catalog: Catalog, reference: dict[str, Any]) -> None:
    for service in reference["services"]:
        for edition in service["editions"]:
            sla = _resolved(service, edition, "sla")
            mine = catalog.service(service["id"]).edition(edition["edition_id"]).sla
            if sla is None:
                assert mine is None
                continue
            assert mine is not None
            assert (mine.total, mine.unit, mine.starts_at) == (sla["total"], sla["unit"], sla["starts_at"])
            assert [(c.channel, c.total) for c in mine.per_channel] == [
                (c["channel"], c["total"]) for c in sla["per_channel"]
            ]
            assert mine.note == sla["note"]


def test_source_notes_stay_visible(catalog: Catalog, reference: dict[str, Any]) -> None:
    for service in reference["services"]:
        ours = catalog.service(service["id"])
        for edition in service["editions"]:
            notes = _resolved(service, edition, "source_notes") or []
            assert list(ours.edition(edition["edition_id"]).notes) == notes
        if "source_notes" in service["varies_by_edition"]:
            assert list(ours.notes) == service["source_notes"]


def test_known_contradictions_are_recorded_not_fixed(catalog: Catalog) -> None:
    akmola = catalog.service("unemployed_certificate").edition("akmola_2011_regulation")
    assert any("DECISION: para 9" in n for n in akmola.notes)
    assert akmola.sla is not None and akmola.sla.total == 10 and akmola.sla.unit == "minutes"
    semipalatinsk = catalog.service("semipalatinsk_victim_registration").edition("krg_2008_standard")
    assert any("Contradiction" in n for n in semipalatinsk.notes)
    assert set(semipalatinsk.channels) == {"department", "enterprise_commission"}
    assert catalog.office_hours_profile("krg_dept_2008_no_friday").suspect
    q1 = {i.id: i for i in catalog.quality_indicator_profile("krg_q1").indicators}
    assert q1["justified_complaints_share"].suspect and q1["justified_complaints_share"].target_percent == 100
    almaty = catalog.legal_act("almaty_akimat_420_2012")
    assert almaty.registered is not None and almaty.registered.note and "misprint" in almaty.registered.note


def test_amendment_only_editions_carry_no_invented_content(catalog: Catalog) -> None:
    for service in catalog.services:
        for edition in service.editions:
            if edition.coverage is Coverage.AMENDMENT_ONLY:
                assert edition.sla is None and not edition.documents and not edition.steps, (
                    service.id,
                    edition.id,
                )


def test_every_condition_is_decided_when_all_facts_are_known(catalog: Catalog) -> None:
    categories = frozenset(c.id for c in catalog.condition_vocabulary.categories)
    for service in catalog.services:
        for edition in service.editions:
            for channel in edition.channels:
                for subtype in service.subtypes or (None,):
                    for status in ("citizen", "foreigner", "oralman"):
                        for cats in (frozenset(), categories):
                            facts = ApplicationFacts(
                                channel=channel,
                                subtype=subtype,
                                status=status,
                                applicant_type="individual",
                                representative=bool(cats),
                                age=10 if cats else 40,
                                categories=cats,
                            )
                            for doc in edition.documents:
                                assert evaluate(doc.applies_when, facts) in (True, False), (
                                    service.id,
                                    doc.id,
                                )


def test_regions_have_ids_names_and_time_zones(catalog: Catalog) -> None:
    ids = {r.id for r in catalog.regions}
    assert {"akmola", "almaty_region", "almaty_city", "karaganda", "astana", "shymkent"} <= ids
    assert len(ids) == 20 and "national" not in ids
    after_unification = datetime(2024, 6, 1, tzinfo=UTC)
    for region in catalog.regions:
        assert region.name_kk and region.name_en
        assert after_unification.astimezone(ZoneInfo(region.time_zone)).utcoffset() == timedelta(hours=5)
    assert catalog.region("kostanay").time_zone == "Asia/Qostanay"
    assert catalog.region("aktobe").time_zone == "Asia/Aqtobe"


def test_data_files_are_self_contained(catalog: Catalog) -> None:
    for file in DEFAULT_DATA_DIR.rglob("*.yaml"):
        events = yaml.parse(
            file.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        )
        assert not any(isinstance(e, yaml.AliasEvent) for e in events), file


def test_parameters_from_the_reference_are_all_defined(catalog: Catalog, reference: dict[str, Any]) -> None:
    # Parameters the seeds do not name: the MCI unit, the SLA warning share, the housing
    # assistance term the seed leaves to each district maslikhat's Rules (000 L7736-7743), and
    # the extended complaint review term (the law the seeds cite gives no days).
    project_only = {
        "monthly_calculation_index",
        "deadline_approaching_share",
        "decision_period_max",
        "housing_assistance_term",
        "complaint_review_term_extended",
    }
    expected = {p["id"] for p in reference["parameters"]} | project_only
    assert set(catalog.parameters) == expected
    assert catalog.rule_parameter_ids() <= set(catalog.parameters)


def test_reference_data_is_complete(catalog: Catalog, reference: dict[str, Any]) -> None:
    assert {c.id for c in catalog.channels} == {c["id"] for c in reference["channels"]}
    assert {a.id for a in catalog.actors} == {a["id"] for a in reference["actors"]}
    assert {a.id for a in catalog.legal_acts} == {a["id"] for a in reference["legal_acts"]}
    assert {p.id for p in catalog.office_hours_profiles} == {
        p["id"] for p in reference["office_hours_profiles"]
    }
    assert {p.id for p in catalog.quality_indicator_profiles} == {
        p["id"] for p in reference["quality_indicator_profiles"]
    }
    assert len(catalog.glossary) == len(reference["glossary"])
