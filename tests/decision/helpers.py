"""Builders shared by the decision tests: the real catalog, controlled parameter books, commands."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from services.decision.adapters.catalog import DecisionCatalog
from services.decision.domain import commands as c
from services.decision.domain.case import Env
from services.decision.domain.rules import book_lookup
from shared.catalog.catalog import Catalog
from shared.catalog.loader import load_catalog
from shared.catalog.parameters import ParameterBook, ParameterRecord
from shared.contracts.applications import Applicant, ApplicationSubmitted, FamilyMember

TSA = "targeted_social_assistance"
TSA_AKMOLA = "akmola_2012_regulation"
KRG = "krg_2008_standard"


def catalog() -> Catalog:
    return load_catalog()


def record(
    parameter: str, region: str, start: date, value: object, end: date | None = None
) -> ParameterRecord:
    return ParameterRecord(
        parameter=parameter, region=region, effective_from=start, effective_to=end, value=value
    )


def book(*records: ParameterRecord) -> ParameterBook:
    cat = catalog()
    return ParameterBook(cat.parameters.values(), records, regions=[r.id for r in cat.regions])


def decision_catalog(*records: ParameterRecord) -> DecisionCatalog:
    return DecisionCatalog(catalog(), book(*records))


def env(
    service_id: str,
    edition_id: str,
    *records: ParameterRecord,
    now: datetime | None = None,
    region: str = "akmola",
) -> Env:
    cat = catalog()
    return Env(
        now=now or datetime(2012, 11, 20, 6, 0, tzinfo=UTC),
        service=cat.service(service_id),
        edition=cat.service(service_id).edition(edition_id),
        tz=cat.time_zone(region),
        lookup=book_lookup(book(*records)),
        approaching_share=Decimal("0.75"),
    )


def submitted(
    *,
    service_id: str = TSA,
    edition_id: str = TSA_AKMOLA,
    channel: str = "village_akim",
    office_id: str = "akmola-village-1",
    region: str = "akmola",
    received_at: datetime | None = None,
    due_in: timedelta | None = timedelta(days=30),
    incomes: tuple[str, ...] = ("9000", "9000"),
    application_id: str | None = None,
    categories: list[str] | None = None,
) -> ApplicationSubmitted:
    received = received_at or datetime(2012, 11, 15, 5, 0, tzinfo=UTC)
    aid = application_id or uuid.uuid4().hex
    return ApplicationSubmitted(
        application_id=aid,
        registration_number=f"REG-{aid[:8]}",
        service_id=service_id,
        edition_id=edition_id,
        edition_basis="adoption",
        channel=channel,
        office_id=office_id,
        region=region,
        received_by="clerk-1",
        received_at=received,
        due_at=None if due_in is None else received + due_in,
        applicant=Applicant(iin="900101300123", full_name="Test Applicant"),
        family_members=[
            FamilyMember(
                full_name=f"Member {i}", relation="self" if i == 0 else "child", declared_monthly_income=v
            )
            for i, v in enumerate(incomes)
        ],
        categories=categories,
        documents=[],
        idempotency_key=aid,
    )


HEAD = c.Actor("head-1", "head", "akmola-village-1")
SPECIALIST = c.Actor("spec-1", "specialist", "akmola-village-1")
INSPECTOR = c.Actor("insp-1", "inspector", "akmola-village-1")
REVIEWER = c.Actor("rev-1", "reviewer", "akmola-village-1")


def act_json(
    incomes: tuple[str, ...] = ("9000", "9000"), inspected_on: str = "2012-11-16", conclusion: str = "need"
) -> dict[str, Any]:
    """An inspection act; dated no later than the tests' clock (an act dated later is refused)."""
    return {
        "act_number": "A-1",
        "inspected_on": inspected_on,
        "living_conditions": "two-room flat, poor repair",
        "household": [
            {"relation": "self" if i == 0 else "child", "monthly_income": v, "employment": "employed"}
            for i, v in enumerate(incomes)
        ],
        "findings": "income confirmed",
        "conclusion": conclusion,
        "commission_members": ["A. Member", "B. Member"],
    }


INCOME_RULES = record(
    "aggregate_income_rules",
    "national",
    date(2002, 2, 13),
    "MLSP rules for computing aggregate income (test)",
)
"""The income-counting rules in force: every income test records which it counted by."""

AKMOLA_Q4_2012 = (
    record("poverty_line", "akmola", date(2012, 10, 1), "9500", date(2013, 1, 1)),
    record("income_threshold_equality_policy", "national", date(2008, 1, 1), "equal_is_eligible"),
    INCOME_RULES,
)
