"""Intake's due dates and representatives against the seed text, with hand-counted dates.

* A ЦОН forwards pension-centre applications within 1 working day (acceptance day not counted)
  and the service term runs from the branch's registration (004 para 7.1, e.g. L548-550).
* The housing assistance term is each district maslikhat's (000 L7736-7743): a district-scope
  parameter an administrator sets; the shipped value is an EXAMPLE, and the talon says so.
* A representative's power of attorney must be notarised where the seed says so.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from services.intake.adapters.catalog import CatalogAdapter, default_catalog
from services.intake.adapters.offices import OfficeBook
from services.intake.domain.identity import make_iin
from services.intake.domain.intake import Acceptance, Rejection, assess
from services.intake.entrypoints.api import create_app
from shared.catalog.editions import AdoptionRecord
from shared.catalog.loader import load_catalog
from shared.catalog.parameters import ParameterRecord
from shared.catalog.store import CatalogStore
from shared.contracts.applications import SubmitApplication
from tests.intake.conftest import SECRET, auth

APPLICANT = make_iin(date(1985, 4, 12), 17)
WED_4_JUNE = datetime(2025, 6, 4, 7, 0, tzinfo=UTC)  # Wednesday 12:00 in Karaganda (UTC+5)
WED_19_MARCH = datetime(2025, 3, 19, 5, 0, tzinfo=UTC)  # Wednesday 10:00, before Nauryz


def _body(
    service_id: str, channel: str, office_id: str, documents: list[str], **extra: Any
) -> dict[str, Any]:
    return {
        "idempotency_key": str(uuid.uuid4()),
        "service_id": service_id,
        "channel": channel,
        "office_id": office_id,
        "applicant": {"iin": APPLICANT, "full_name": "Айгүл Серікқызы Нұрланова"},
        "documents": [{"document_id": d} for d in documents],
        **extra,
    }


PENSION_DOCS = ["application", "identity_document_copy", "residence_registration", "account_details"]


def _pension(channel: str, office_id: str) -> SubmitApplication:
    docs = [
        {"document_id": d, "form": "notarised_copy" if channel == "tson" else "original"}
        for d in PENSION_DOCS
    ]
    body = _body("basic_state_pension_payment", channel, office_id, [])
    body["documents"] = docs
    return SubmitApplication.model_validate(body)


def _local_day(verdict: Acceptance | Rejection, offices: OfficeBook, office_id: str) -> date:
    assert isinstance(verdict, Acceptance) and verdict.due_at is not None, verdict
    office = offices.office(office_id)
    assert office is not None
    return verdict.due_at.astimezone(office.zone).date()


@pytest.mark.parametrize(
    ("received_at", "at_tson", "at_branch"),
    [
        # Wed 4 Jun 2025: the ЦОН forwards by Thu 5 Jun; Fri 6 Jun is Kurban Ait; 10 working days
        # from the day after registration: 9, 10, 11, 12, 13, 16, 17, 18, 19, 20 -> Fri 20 June.
        # At the branch (registered on acceptance): 5, 9, ..., 19 -> Thu 19 June.
        (WED_4_JUNE, date(2025, 6, 20), date(2025, 6, 19)),
        # Wed 19 Mar 2025: forwarded by Thu 20 Mar; 21-25 Mar are days off (Nauryz); 26, 27, 28,
        # 31 Mar, 1, 2, 3, 4, 7, 8 Apr -> Tue 8 April. At the branch: 20 Mar, 26 Mar ... -> 7 April.
        (WED_19_MARCH, date(2025, 4, 8), date(2025, 4, 7)),
    ],
)
def test_a_tson_application_is_due_a_forwarding_day_after_a_branch_application(
    catalog: CatalogAdapter, offices: OfficeBook, received_at: datetime, at_tson: date, at_branch: date
) -> None:
    tson = assess(
        _pension("tson", "karaganda-tson-01"),
        catalog=catalog,
        office=offices.office("karaganda-tson-01"),
        received_at=received_at,
    )
    branch = assess(
        _pension("pension_centre", "karaganda-gcvp-01"),
        catalog=catalog,
        office=offices.office("karaganda-gcvp-01"),
        received_at=received_at,
    )
    assert _local_day(tson, offices, "karaganda-tson-01") == at_tson
    assert _local_day(branch, offices, "karaganda-gcvp-01") == at_branch
    assert isinstance(tson, Acceptance) and tson.due_note is not None
    assert "forwards within 1 working_days" in tson.due_note and "L548-550" in tson.due_note


def _housing(office_id: str = "karaganda-dept-01") -> SubmitApplication:
    return SubmitApplication.model_validate(
        _body("housing_assistance", "department", office_id, ["application", "maslikhat_rules_documents"])
    )


def _term(
    region: str, amount: int, unit: str, source: str = "maslikhat decision No. 1 (test)"
) -> ParameterRecord:
    return ParameterRecord(
        parameter="housing_assistance_term",
        region=region,
        effective_from=date(2025, 1, 1),
        value={"amount": amount, "unit": unit},
        source=source,
    )


def test_housing_assistance_is_due_by_the_example_term_and_the_talon_says_it_is_an_example(
    catalog: CatalogAdapter, offices: OfficeBook
) -> None:
    verdict = assess(
        _housing(), catalog=catalog, office=offices.office("karaganda-dept-01"), received_at=WED_4_JUNE
    )
    # EXAMPLE 10 calendar days from Wed 4 Jun: Sat 14 Jun, a day off -> Mon 16 June.
    assert _local_day(verdict, offices, "karaganda-dept-01") == date(2025, 6, 16)
    assert isinstance(verdict, Acceptance) and verdict.due_note is not None
    assert "EXAMPLE" in verdict.due_note and "not law" in verdict.due_note


def test_a_districts_housing_term_beats_its_regions_and_without_any_no_due_date(offices: OfficeBook) -> None:
    adapter = default_catalog(include_examples=False)
    karaganda_city = offices.office("karaganda-dept-01")  # district karaganda_city
    other = offices.office("akmola-dept-01")
    missing = assess(_housing(), catalog=adapter, office=karaganda_city, received_at=WED_4_JUNE)
    assert isinstance(missing, Acceptance) and missing.due_at is None
    assert missing.due_note is not None and "housing_assistance_term" in missing.due_note

    adapter.use_stored(
        [_term("karaganda", 15, "calendar_days"), _term("karaganda/karaganda_city", 5, "working_days")]
    )
    # The district's 5 working days from Wed 4 Jun: 5, 9 (6 Jun Kurban Ait), 10, 11, 12 -> Thu 12 June.
    district = assess(_housing(), catalog=adapter, office=karaganda_city, received_at=WED_4_JUNE)
    assert _local_day(district, offices, "karaganda-dept-01") == date(2025, 6, 12)
    assert isinstance(district, Acceptance) and district.due_note is not None
    assert "[karaganda/karaganda_city]" in district.due_note and "EXAMPLE" not in district.due_note
    # Akmola has no value of its own and there is no national one: no due date.
    akmola = assess(_housing("akmola-dept-01"), catalog=adapter, office=other, received_at=WED_4_JUNE)
    assert isinstance(akmola, Acceptance) and akmola.due_at is None


async def test_an_administrators_district_term_and_adoption_govern_intake(
    pool: asyncpg.Pool,
    admin_pool: asyncpg.Pool,
    intake_schema: str,
    offices: OfficeBook,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    catalog_schema = f"tcat_{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("INTAKE_CATALOG_SCHEMA", catalog_schema)
    monkeypatch.setenv("INTAKE_USE_EXAMPLE_PARAMETERS", "false")
    store = CatalogStore(load_catalog(), catalog_schema)
    async with admin_pool.acquire() as conn:  # the administrator's `qyzmet params set` / `adoptions add`
        await store.migrate(conn)
        await store.set_parameter(
            conn, _term("karaganda/karaganda_city", 20, "working_days"), actor="admin@karaganda", role="admin"
        )
        # An administrator adopts the child benefit's amendment-only edition for Karaganda.
        await store.adopt(
            conn,
            AdoptionRecord(
                service="child_benefit_under_18",
                edition="kz_std_394_as_amended_2012",
                region="karaganda",
                effective_from=date(2025, 1, 1),
                adopted_by="admin@karaganda",
                reason="test",
            ),
            role="admin",
        )
    app = create_app(
        pool,
        schema=intake_schema,
        catalog=None,
        offices=offices,
        token_secret=SECRET,
        clock=lambda: WED_4_JUNE,
    )
    await app.state.intake.start()
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://intake"
        ) as client:
            r = await client.post("/v1/applications", json=_housing().model_dump(mode="json"), headers=auth())
            child = _body("child_benefit_under_18", "department", "karaganda-dept-01", ["application"])
            refused = await client.post("/v1/applications", json=child, headers=auth())
        assert refused.status_code == 422, refused.text
        assert "standard_not_in_catalog" in refused.text and "gov_1059_2012" in refused.text
        assert r.status_code == 201, r.text
        talon = r.json()
        # 20 working days from Wed 4 Jun 2025 (Fri 6 Jun is Kurban Ait): 5 (1), 9-13 (6), 16-20 (11),
        # 23-27 (16), 30 Jun (17), 1, 2, 3 Jul (20) -> Thu 3 July 2025, end of day (UTC+5).
        assert talon["due_at"] == "2025-07-03T18:59:59Z", talon["due_note"]
        assert "karaganda/karaganda_city" in talon["due_note"]
    finally:
        await app.state.intake.stop()
        async with admin_pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA {catalog_schema} CASCADE")


def _representative(notarised: bool) -> dict[str, Any]:
    return {
        "iin": make_iin(date(1970, 3, 3), 21),
        "full_name": "Ержан Болатұлы",
        "power_of_attorney": {"number": "PA-1", "issued_on": "2025-05-01", "notarised": notarised},
    }


def test_a_social_individual_code_representative_needs_a_notarised_power_of_attorney(
    catalog: CatalogAdapter, offices: OfficeBook
) -> None:
    office = offices.office("karaganda-gcvp-01")
    docs = ["identity_document", "taxpayer_number", "notarised_power_of_attorney"]
    plain = SubmitApplication.model_validate(
        _body(
            "social_individual_code",
            "pension_centre",
            "karaganda-gcvp-01",
            docs,
            representative=_representative(False),
        )
    )
    refused = assess(plain, catalog=catalog, office=office, received_at=WED_4_JUNE)
    assert isinstance(refused, Rejection)
    problem = next(p for p in refused.problems if p.code == "power_of_attorney_not_notarised")
    assert problem.field == "representative.power_of_attorney.notarised" and "004 L30460" in problem.message
    notarised = plain.model_copy(
        update={
            "representative": plain.representative
            and plain.representative.model_copy(
                update={
                    "power_of_attorney": plain.representative.power_of_attorney.model_copy(
                        update={"notarised": True}
                    )
                }
            )
        }
    )
    assert isinstance(assess(notarised, catalog=catalog, office=office, received_at=WED_4_JUNE), Acceptance)
    without = SubmitApplication.model_validate(
        _body(
            "social_individual_code",
            "pension_centre",
            "karaganda-gcvp-01",
            docs[:2],
            representative=_representative(True),
        )
    )
    missing = assess(without, catalog=catalog, office=office, received_at=WED_4_JUNE)
    assert isinstance(missing, Rejection)
    assert [p.document_id for p in missing.problems if p.code == "missing_document"] == [
        "notarised_power_of_attorney"
    ]


@pytest.mark.parametrize(
    ("service_id", "channel", "office_id", "documents", "subtype", "poa"),
    [
        (
            "childbirth_and_childcare_benefits",
            "pension_centre",
            "karaganda-gcvp-01",
            [
                "application",
                "child_birth_certificates",
                "identity_document",
                "residence_proof",
                "family_composition",
            ],
            None,
            "power_of_attorney",
        ),
        (
            "hearing_vision_hygiene_aids_docs",
            "department",
            "karaganda-dept-01",
            ["application", "passport_or_id", "rehabilitation_programme", "disability_certificate"],
            "mandatory_hygiene_products",
            "power_of_attorney_unnotarised",
        ),
    ],
)
def test_a_representative_without_the_power_of_attorney_the_seed_requires_is_refused(
    catalog: CatalogAdapter,
    offices: OfficeBook,
    service_id: str,
    channel: str,
    office_id: str,
    documents: list[str],
    subtype: str | None,
    poa: str,
) -> None:
    office = offices.office(office_id)
    body = _body(service_id, channel, office_id, documents, subtype=subtype, categories=[],
                 representative=_representative(False))  # fmt: skip
    refused = assess(
        SubmitApplication.model_validate(body), catalog=catalog, office=office, received_at=WED_4_JUNE
    )
    assert isinstance(refused, Rejection)
    assert [p.document_id for p in refused.problems] == [poa]
    body["documents"].append({"document_id": poa})
    # Neither seed requires notarisation here (hygiene products: explicitly not), so an
    # unnotarised power of attorney is accepted.
    accepted = assess(
        SubmitApplication.model_validate(body), catalog=catalog, office=office, received_at=WED_4_JUNE
    )
    assert isinstance(accepted, Acceptance), accepted
