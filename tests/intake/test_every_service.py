"""Every service of the catalog can be applied for, or intake says why not.

A plain first-time applicant (a citizen, no representative, no categories) brings the documents
the adopted edition requires to an example office that operates one of its channels; intake
accepts with a talon and a due date, and the decision service opens a case with its SLA timers
at that due date. The three services known only from an amendment are refused as "standard not
in the catalog". Runs on the in-memory units of both services (no database, no broker).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.decision.adapters.catalog import DecisionCatalog
from services.decision.domain import commands as dc
from services.decision.service_layer.catalogs import FixedCatalog
from services.decision.service_layer.handlers import CaseHandlers, CaseResult, OnCase
from services.decision.settings import DecisionSettings
from services.intake.adapters.catalog import CatalogAdapter
from services.intake.adapters.offices import OfficeBook
from services.intake.domain.identity import make_iin
from services.intake.domain.intake import income_tested
from services.intake.domain.ports import Office
from services.intake.service_layer.handlers import IntakeHandlers, SubmitResult
from shared.catalog.conditions import ApplicationFacts, Requirement
from shared.catalog.deadlines import application_due_at
from shared.catalog.vocabulary import Coverage
from shared.contracts.applications import ApplicationRejectedAtIntake, ApplicationSubmitted, SubmitApplication
from shared.domain.actor import Actor
from shared.service_layer import MessageBus, Meta, RetryPolicy
from tests.decision.fakes import DecisionWorld, FakeDecisionUnit
from tests.intake.fakes import FakeIntakeUnit, IntakeWorld

NOON = datetime(2025, 6, 4, 7, 0, tzinfo=UTC)  # Wednesday 12:00 in Kazakhstan (UTC+5)
APPLICANT = make_iin(date(1985, 4, 12), 17)
AMENDMENT_ONLY = {"personal_assistant_sign_language_docs", "wheelchair_docs", "sanatorium_treatment_docs"}
RETRY = RetryPolicy(initial_wait_s=0, max_wait_s=0)
NOT_ONLINE = {"egov_portal", "egov_portal_info_only", "electronic_request"}
"""Channels no office operates: the applicant applies online, not at an intake office."""


def _offerable(catalog: CatalogAdapter) -> list[str]:
    return [s.id for s in catalog.catalog.services if s.id not in AMENDMENT_ONLY]


def _office_for(catalog: CatalogAdapter, offices: OfficeBook, service_id: str) -> tuple[Office, str]:
    """An example office operating a channel of the edition adopted in its region, and that channel."""
    for office in offices.all():
        edition = catalog.choose_edition(
            service_id, office.region, NOON.astimezone(office.zone).date()
        ).edition
        for channel in edition.channels:
            if channel in office.channels and channel not in NOT_ONLINE:
                return office, channel
    raise AssertionError(f"no example office operates a channel of {service_id}")


def _plain_submission(
    catalog: CatalogAdapter, service_id: str, office: Office, channel: str
) -> SubmitApplication:
    service = catalog.service(service_id)
    edition = catalog.choose_edition(service_id, office.region, NOON.astimezone(office.zone).date()).edition
    subtype = service.subtypes[0] if service.subtypes else None
    facts = ApplicationFacts(
        channel=channel,
        subtype=subtype,
        status="citizen",
        applicant_type="individual",
        representative=False,
        age=40,
        categories=frozenset(),
    )
    documents = [
        {"document_id": doc.id, "form": "original"}
        for doc in edition.documents
        if doc.requirement(facts) is Requirement.REQUIRED
    ]
    body: dict[str, Any] = {
        "idempotency_key": str(uuid.uuid4()),
        "service_id": service_id,
        "subtype": subtype,
        "channel": channel,
        "office_id": office.id,
        "applicant": {"iin": APPLICANT, "full_name": "Айгүл Серікқызы Нұрланова"},
        "categories": [],
        "documents": documents,
    }
    if income_tested(edition):
        body["family_members"] = [
            {"full_name": "Айгүл Серікқызы Нұрланова", "relation": "self", "declared_monthly_income": "30000"}
        ]
    return SubmitApplication.model_validate(body)


def _meta(office: Office) -> Meta:
    role = "tson" if office.kind == "tson" else "clerk"
    return Meta(Actor(f"{role}@{office.id}", role, office.id), correlation_id="corr-every")


@pytest.fixture
def intake(catalog: CatalogAdapter, offices: OfficeBook) -> MessageBus[FakeIntakeUnit]:
    handlers = IntakeHandlers(catalog, offices, lambda: NOON, pseudonym_key="k" * 32)
    return MessageBus(handlers.table(), IntakeWorld().begin, RETRY)


@pytest.fixture
def decision() -> tuple[MessageBus[FakeDecisionUnit], DecisionWorld]:
    world = DecisionWorld()
    handlers = CaseHandlers(FixedCatalog(DecisionCatalog.load()), DecisionSettings(), lambda: NOON)
    return MessageBus(handlers.table(), world.begin, RETRY), world


def test_every_service_but_the_amendment_only_ones_is_offerable(catalog: CatalogAdapter) -> None:
    for service in catalog.catalog.services:
        full = any(e.coverage is Coverage.FULL for e in service.editions)
        assert full == (service.id not in AMENDMENT_ONLY), service.id
    assert len(_offerable(catalog)) == 27


async def test_one_application_for_every_offerable_service_gets_a_talon_a_due_date_and_a_case(
    catalog: CatalogAdapter,
    offices: OfficeBook,
    intake: MessageBus[FakeIntakeUnit],
    decision: tuple[MessageBus[FakeDecisionUnit], DecisionWorld],
) -> None:
    cases, world = decision
    accepted: dict[str, ApplicationSubmitted] = {}
    for service_id in _offerable(catalog):
        office, channel = _office_for(catalog, offices, service_id)
        cmd = _plain_submission(catalog, service_id, office, channel)
        result: SubmitResult = await intake.handle(cmd, _meta(office))
        event = result.event
        assert isinstance(event, ApplicationSubmitted), (service_id, getattr(event, "problems", None))
        assert event.registration_number.startswith(f"{office.id}-2025-")
        assert event.received_by == f"{_meta(office).actor.subject}"
        service = catalog.service(service_id)
        edition = service.edition(event.edition_id)
        assert edition.coverage is Coverage.FULL
        expected = _expected_due(catalog, service_id, event, office)
        assert event.due_at == expected, (service_id, event.due_note)
        assert event.due_at is not None and event.due_at >= event.received_at
        accepted[service_id] = event

        opened: CaseResult = await cases.handle(
            OnCase(event.application_id, dc.OpenCase(event)), Meta(dc.SYSTEM, correlation_id="corr-every")
        )
        assert opened.events[0].event_name == "decision.case_opened", service_id
        assert world.cases[event.application_id].due_at == event.due_at
        assert not [e for e in opened.events if getattr(e, "reason", None) == "no_computable_term"], (
            service_id
        )
        case = world.cases[event.application_id]
        breach = [
            t.due_at
            for t in world.timers
            if t.application_id == event.application_id and t.kind == "deadline_breached" and t.pending
        ]
        if case.is_open:  # an automated service decided at once has no SLA timer left
            assert breach == [event.due_at], service_id
        else:
            assert case.decision is not None and breach == [], service_id
    assert set(accepted) == set(_offerable(catalog))


def _expected_due(
    catalog: CatalogAdapter, service_id: str, event: ApplicationSubmitted, office: Office
) -> datetime:
    service = catalog.service(service_id)
    edition = service.edition(event.edition_id)
    on = event.received_at.astimezone(office.zone).date()

    def term(parameter_id: str) -> Any:
        from shared.catalog.deadlines import Term

        value = catalog.parameters.term(parameter_id, office.region, on)
        return Term(value.amount, value.unit)

    return application_due_at(
        service, edition, event.channel, event.received_at, office.zone, event.subtype, term_parameter=term
    )


@pytest.mark.parametrize("service_id", sorted(AMENDMENT_ONLY))
async def test_a_service_known_only_from_an_amendment_is_refused_as_not_in_the_catalog(
    catalog: CatalogAdapter, intake: MessageBus[FakeIntakeUnit], service_id: str
) -> None:
    cmd = SubmitApplication.model_validate(
        {
            "idempotency_key": str(uuid.uuid4()),
            "service_id": service_id,
            "channel": "department",
            "office_id": "karaganda-dept-01",
            "applicant": {"iin": APPLICANT, "full_name": "Айгүл Серікқызы Нұрланова"},
            "documents": [],
        }
    )
    result: SubmitResult = await intake.handle(cmd, _meta(_dept()))
    assert isinstance(result.event, ApplicationRejectedAtIntake)
    codes = {p.code: p for p in result.event.problems}
    assert "standard_not_in_catalog" in codes and "channel_not_offered" not in codes
    assert "not in the catalog" in codes["standard_not_in_catalog"].message
    assert "amendment" in codes["standard_not_in_catalog"].message


def _dept() -> Office:
    from services.intake.adapters.offices import load_offices

    office = load_offices().office("karaganda-dept-01")
    assert office is not None
    return office
