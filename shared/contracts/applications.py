"""The application events contract (`applications.v1`) and the intake command (`intake.submissions.v1`).

Office systems (regional departments, ЦОН) produce `SubmitApplication` commands; the intake
service answers on `applications.v1` with `ApplicationSubmitted` (a talon was issued) or
`ApplicationRejectedAtIntake` (the items that were missing or invalid), and later
`DocumentsSupplemented` / `ApplicationWithdrawn`. Every field holding personal data (ИИН,
names, contacts, incomes, power-of-attorney details) is a `PersonalStr`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from shared.contracts.event import ContractModel, DomainEvent, PersonalStr
from shared.contracts.registry import EventRegistry

Language = Literal["kk", "ru"]
LegalStatus = Literal["citizen", "foreigner", "stateless", "oralman", "refugee"]
ApplicantType = Literal["individual", "legal_entity", "individual_entrepreneur"]
DocumentForm = Literal["original", "copy", "notarised_copy"]

_ID = r"^[a-z][a-z0-9_]*$"
_OFFICE = r"^[a-z0-9][a-z0-9_-]{0,62}$"
_MONEY = r"^\d{1,12}(\.\d{1,2})?$"


class _Part(ContractModel):
    pass


class Contacts(_Part):
    phone: PersonalStr | None = Field(default=None, max_length=32)
    email: PersonalStr | None = Field(default=None, max_length=254)
    address: PersonalStr | None = Field(default=None, max_length=500)


class Applicant(_Part):
    iin: PersonalStr = Field(max_length=12, description="ИИН, 12 digits (checked by the intake service)")
    full_name: PersonalStr = Field(min_length=1, max_length=300)
    contacts: Contacts = Field(default_factory=Contacts)
    preferred_language: Language = "kk"
    legal_status: LegalStatus = "citizen"
    applicant_type: ApplicantType = "individual"


class PowerOfAttorney(_Part):
    number: PersonalStr = Field(min_length=1, max_length=64)
    issued_on: date
    valid_until: date | None = None
    notarised: bool
    issued_by: PersonalStr | None = Field(default=None, max_length=300)


class Representative(_Part):
    iin: PersonalStr = Field(max_length=12)
    full_name: PersonalStr = Field(min_length=1, max_length=300)
    contacts: Contacts = Field(default_factory=Contacts)
    power_of_attorney: PowerOfAttorney


class FamilyMember(_Part):
    iin: PersonalStr | None = Field(default=None, max_length=12)
    full_name: PersonalStr = Field(min_length=1, max_length=300)
    relation: str = Field(pattern=_ID, max_length=40, description="self, spouse, child, parent, ...")
    declared_monthly_income: PersonalStr | None = Field(
        default=None, pattern=_MONEY, description="average monthly income in tenge, as a decimal string"
    )


class PresentedDocument(_Part):
    document_id: str = Field(pattern=_ID, max_length=80, description="catalog document id")
    form: DocumentForm = "original"


class ReceivedDocument(_Part):
    """A document as the talon lists it: catalog id, names and how it was presented."""

    document_id: str
    name_kk: str
    name_en: str
    form: DocumentForm


class IntakeProblem(_Part):
    """One missing or invalid item of a submission."""

    code: str
    field: str
    message: str
    document_id: str | None = None
    name_kk: str | None = None
    name_en: str | None = None


class SubmitApplication(DomainEvent):
    """Command: submit an application (HTTP body of `POST /v1/applications`, or a Kafka command)."""

    event_name = "intake.submit_application"
    event_version = 1

    idempotency_key: str = Field(min_length=1, max_length=128)
    service_id: str = Field(max_length=80)
    subtype: str | None = Field(default=None, max_length=80)
    channel: str = Field(max_length=80)
    office_id: str = Field(pattern=_OFFICE, description="the receiving office (must be the token's office)")
    applicant: Applicant
    subject_birth_date: date | None = Field(
        default=None, description="birth date of the person the service concerns, if not the applicant"
    )
    categories: list[str] | None = Field(
        default=None, max_length=30, description="catalog category ids that apply; omit if not assessed"
    )
    representative: Representative | None = None
    family_members: list[FamilyMember] | None = Field(default=None, max_length=50)
    documents: list[PresentedDocument] = Field(default_factory=list, max_length=100)


class ApplicationSubmitted(DomainEvent):
    """The application was accepted and a talon issued."""

    event_name = "application.submitted"
    event_version = 1

    application_id: str
    registration_number: str
    service_id: str
    subtype: str | None = None
    edition_id: str
    edition_basis: str
    channel: str
    office_id: str
    region: str
    received_by: str
    received_at: datetime
    due_at: datetime | None
    due_note: str | None = None
    applicant: Applicant
    representative: Representative | None = None
    family_members: list[FamilyMember] | None = None
    categories: list[str] | None = None
    documents: list[ReceivedDocument]
    undetermined_documents: list[str] = Field(
        default_factory=list, description="documents whose requirement the facts did not settle"
    )
    idempotency_key: str


class ApplicationRejectedAtIntake(DomainEvent):
    """The submission was refused at intake; `problems` lists every missing or invalid item."""

    event_name = "application.rejected_at_intake"
    event_version = 1

    application_id: str
    service_id: str
    channel: str
    office_id: str
    region: str | None = None
    edition_id: str | None = None
    received_by: str
    rejected_at: datetime
    applicant_iin: PersonalStr | None = None
    problems: list[IntakeProblem]
    idempotency_key: str


class DocumentsSupplemented(DomainEvent):
    event_name = "application.documents_supplemented"
    event_version = 1

    application_id: str
    documents: list[ReceivedDocument]
    supplemented_by: str
    supplemented_at: datetime


class ApplicationWithdrawn(DomainEvent):
    event_name = "application.withdrawn"
    event_version = 1

    application_id: str
    withdrawn_by: str
    withdrawn_at: datetime
    reason: str | None = None


APPLICATION_EVENTS = EventRegistry(
    [ApplicationSubmitted, ApplicationRejectedAtIntake, DocumentsSupplemented, ApplicationWithdrawn]
)
"""Events published on `applications.v1`."""

INTAKE_COMMANDS = EventRegistry([SubmitApplication])
"""Commands accepted on `intake.submissions.v1`."""

__all__ = [
    "APPLICATION_EVENTS",
    "INTAKE_COMMANDS",
    "Applicant",
    "ApplicationRejectedAtIntake",
    "ApplicationSubmitted",
    "ApplicationWithdrawn",
    "Contacts",
    "DocumentsSupplemented",
    "FamilyMember",
    "IntakeProblem",
    "PowerOfAttorney",
    "PresentedDocument",
    "ReceivedDocument",
    "Representative",
    "SubmitApplication",
]
