"""Realistic events for the notification tests: a pension application at an Astana ЦОН (its
result is collected in person and kept 1 month), a TSA application in Akmola, complaints."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from shared.contracts.applications import Applicant, ApplicationSubmitted, ApplicationWithdrawn, Contacts
from shared.contracts.complaints import (
    Complainant,
    ComplaintRegistered,
    ComplaintResolved,
    ComplaintReviewExtended,
)
from shared.contracts.decisions import (
    CaseWithdrawn,
    DecisionMade,
    EligibilityInputs,
    Evaluation,
    Ground,
    HouseholdMember,
    InspectionScheduled,
    TermExtended,
    WithdrawalTooLate,
)

PENSION = "basic_state_pension_payment"
PENSION_EDITION = "kz_std_393_as_restated_2012"
TSA = "targeted_social_assistance"
TSA_EDITION = "akmola_2012_regulation"
RECEIVED = datetime(2025, 3, 3, 5, 30, tzinfo=UTC)
DECIDED = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
OFFICE = "astana-tson-1"


def contacts(
    email: str | None = "aigul.nurlanova@example.kz",
    phone: str | None = "+77012345678",
    address: str | None = None,
) -> Contacts:
    return Contacts(email=email, phone=phone, address=address)


def submitted(
    *,
    language: Literal["kk", "ru"] = "kk",
    service_id: str = PENSION,
    edition_id: str = PENSION_EDITION,
    office_id: str = OFFICE,
    region: str = "astana",
    applicant_contacts: Contacts | None = None,
) -> ApplicationSubmitted:
    aid = str(uuid.uuid4())
    return ApplicationSubmitted(
        application_id=aid,
        registration_number=f"{office_id}-2025-{aid[:6]}",
        service_id=service_id,
        edition_id=edition_id,
        edition_basis="in force",
        channel="tson",
        office_id=office_id,
        region=region,
        received_by="operator.tson@" + office_id,
        received_at=RECEIVED,
        due_at=RECEIVED + timedelta(days=14),
        applicant=Applicant(
            iin="850412300017",
            full_name="Айгүл Нұрланова",
            contacts=applicant_contacts if applicant_contacts is not None else contacts(),
            preferred_language=language,
        ),
        documents=[],
        idempotency_key=str(uuid.uuid4()),
    )


def decided(
    app: ApplicationSubmitted,
    outcome: Literal["approved", "refused", "information"] = "approved",
    at: datetime = DECIDED,
) -> DecisionMade:
    grounds: tuple[Ground, ...] = ()
    if outcome == "refused":
        grounds = (
            Ground(
                id="incomplete_documents",
                text="Not all para-11 documents submitted",
                source="refusal_grounds",
            ),
        )
    return DecisionMade(
        application_id=app.application_id,
        service_id=app.service_id,
        edition_id=app.edition_id,
        office_id=app.office_id,
        region=app.region,
        channel=app.channel,
        outcome=outcome,
        result_id=None,
        grounds=grounds,
        amount="48960.00" if outcome == "approved" else None,
        period_start=date(2025, 4, 1) if outcome == "approved" else None,
        period_end=date(2025, 12, 31) if outcome == "approved" else None,
        automated=False,
        drafted_by="specialist@" + app.office_id,
        signed_by="head@" + app.office_id,
        decided_at=at,
        due_at=app.due_at,
        on_time=True,
        evaluation=Evaluation(
            service_id=app.service_id,
            edition_id=app.edition_id,
            rule_ids=(),
            computable=False,
            inputs=EligibilityInputs(
                application_date=date(2025, 3, 3),
                region=app.region,
                channel=app.channel,
                household=(
                    HouseholdMember(relation="self", full_name="Айгүл Нұрланова", monthly_income="85000"),
                ),
            ),
            outcome=None,
        ),
    )


def inspection(app: ApplicationSubmitted) -> InspectionScheduled:
    return InspectionScheduled(
        application_id=app.application_id,
        office_id=app.office_id,
        inspection_date=date(2025, 3, 7),
        scheduled_by="inspector@" + app.office_id,
        scheduled_at=RECEIVED + timedelta(days=1),
    )


def extended(app: ApplicationSubmitted) -> TermExtended:
    return TermExtended(
        application_id=app.application_id,
        reason="қосымша тексеру қажет / требуется дополнительная проверка",
        previous_due_at=app.due_at,
        new_due_at=RECEIVED + timedelta(days=30),
        extended_by="head@" + app.office_id,
        extended_at=RECEIVED + timedelta(days=5),
    )


def withdrawn(app: ApplicationSubmitted) -> ApplicationWithdrawn:
    return ApplicationWithdrawn(
        application_id=app.application_id, withdrawn_by="operator.tson@" + app.office_id, withdrawn_at=DECIDED
    )


def case_withdrawn(app: ApplicationSubmitted) -> CaseWithdrawn:
    """The decision service's ruling: withdrawn before any decision was signed."""
    return CaseWithdrawn(
        application_id=app.application_id,
        withdrawn_by="operator.tson@" + app.office_id,
        withdrawn_at=DECIDED,
        closed_at=DECIDED,
    )


def withdrawal_too_late(decision: DecisionMade) -> WithdrawalTooLate:
    """The decision service's ruling: the decision was signed first and stands."""
    return WithdrawalTooLate(
        application_id=decision.application_id,
        withdrawn_by="operator.tson@" + decision.office_id,
        withdrawn_at=decision.decided_at + timedelta(minutes=5),
        decided_at=decision.decided_at,
        outcome=decision.outcome,
    )


def complaint(app: ApplicationSubmitted, language: Literal["kk", "ru"] = "ru") -> ComplaintRegistered:
    cid = str(uuid.uuid4())
    return ComplaintRegistered(
        complaint_id=cid,
        registration_number=f"Ж-2025-{cid[:5]}",
        subject="decision",
        application_id=app.application_id,
        service_id=app.service_id,
        office_id=app.office_id,
        region=app.region,
        channel="in_person",
        registered_by="operator.tson@" + app.office_id,
        registered_at=DECIDED + timedelta(days=3),
        reviewing_body="oblast_department",
        reviewing_office="astana",
        review_due_on=date(2025, 4, 16),
        review_term_basis="complaint_review_term: 15 working days (EXAMPLE)",
        complainant=Complainant(
            full_name="Айгүл Нұрланова",
            contacts=contacts(address="Астана қ., Сарыарқа ауданы, Бейбітшілік к-сі, 10-12"),
            preferred_language=language,
        ),
        idempotency_key=str(uuid.uuid4()),
    )


def review_extended(c: ComplaintRegistered) -> ComplaintReviewExtended:
    return ComplaintReviewExtended(
        complaint_id=c.complaint_id,
        application_id=c.application_id,
        previous_due_on=c.review_due_on,
        review_due_on=c.review_due_on + timedelta(days=15),
        reason="запрошены дополнительные материалы",
        extended_by="reviewer@astana",
        extended_at=c.registered_at + timedelta(days=5),
    )


def resolved(c: ComplaintRegistered) -> ComplaintResolved:
    return ComplaintResolved(
        complaint_id=c.complaint_id,
        application_id=c.application_id,
        subject="decision",
        service_id=c.service_id,
        office_id=c.office_id,
        reviewing_office="astana",
        outcome="partly_upheld",
        reasoning="Стаж работы подтверждён архивной справкой; размер выплаты пересчитан.",
        reviewed_by="reviewer@astana",
        resolved_at=c.registered_at + timedelta(days=10),
        on_time=True,
        reopen_case=True,
    )
