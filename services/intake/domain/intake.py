"""Intake validation: is a submission complete and valid under the edition in force?

`assess` is pure: it takes the command, the receiving office, the catalog view and the time of
receipt, and returns an `Acceptance` (what the talon will say) or a `Rejection` (every missing
or invalid item, with field paths and document names in Kazakh and English).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from services.intake.domain.identity import age_on, iin_birth_date, iin_problem
from services.intake.domain.ports import CatalogPort, Office
from shared.catalog.conditions import ApplicationFacts, Requirement
from shared.catalog.editions import EditionChoice
from shared.catalog.errors import (
    AmbiguousEdition,
    AmbiguousSla,
    CatalogError,
    ChannelNotOffered,
    NoEditionInForce,
    SlaNotDefined,
    UnknownRegion,
    UnknownService,
    UnknownSubtype,
)
from shared.catalog.models import Edition, Service
from shared.catalog.representation import NotarisationRule
from shared.contracts.applications import (
    ApplicationRejectedAtIntake,
    ApplicationSubmitted,
    IntakeProblem,
    ReceivedDocument,
    SubmitApplication,
)

INCOME_TEST_PARAMETERS = frozenset({"aggregate_income_rules", "poverty_line", "food_basket_cost"})
"""A rule naming one of these parameters tests family income: family members and incomes are needed."""


@dataclass(frozen=True)
class Acceptance:
    edition: Edition
    basis: str
    region: str
    due_at: datetime | None
    due_note: str | None
    documents: tuple[ReceivedDocument, ...]
    undetermined: tuple[str, ...]


@dataclass(frozen=True)
class Rejection:
    problems: tuple[IntakeProblem, ...]
    region: str | None = None
    edition_id: str | None = None


@dataclass
class _Problems:
    items: list[IntakeProblem] = field(default_factory=list)

    def add(self, code: str, field_path: str, message: str, **doc: str | None) -> None:
        self.items.append(IntakeProblem(code=code, field=field_path, message=message, **doc))


def income_tested(edition: Edition) -> bool:
    return any(INCOME_TEST_PARAMETERS & set(rule.parameters) for rule in edition.rules)


def _check_people(cmd: SubmitApplication, problems: _Problems, today: date) -> None:
    """`today` is the office's local date (a power of attorney dated "tomorrow" in UTC may be
    today's in Kazakhstan)."""
    reason = iin_problem(cmd.applicant.iin, today)
    if reason:
        problems.add("invalid_iin", "applicant.iin", f"invalid ИИН: {reason}")
    rep = cmd.representative
    if rep is not None:
        reason = iin_problem(rep.iin, today)
        if reason:
            problems.add("invalid_iin", "representative.iin", f"invalid ИИН: {reason}")
        poa = rep.power_of_attorney
        if poa.issued_on > today:
            problems.add(
                "invalid_power_of_attorney",
                "representative.power_of_attorney.issued_on",
                "the power of attorney is dated in the future",
            )
        if poa.valid_until is not None and poa.valid_until < today:
            problems.add(
                "expired_power_of_attorney",
                "representative.power_of_attorney.valid_until",
                "the power of attorney has expired",
            )
    for i, member in enumerate(cmd.family_members or ()):
        if member.iin is not None:
            reason = iin_problem(member.iin, today)
            if reason:
                problems.add("invalid_iin", f"family_members.{i}.iin", f"invalid ИИН: {reason}")


def _facts(cmd: SubmitApplication, received_on_local: datetime) -> ApplicationFacts:
    birth = cmd.subject_birth_date or iin_birth_date(cmd.applicant.iin)
    age = age_on(birth, received_on_local.date()) if birth is not None else None
    return ApplicationFacts(
        channel=cmd.channel,
        subtype=cmd.subtype,
        status=cmd.applicant.legal_status,
        applicant_type=cmd.applicant.applicant_type,
        representative=cmd.representative is not None,
        age=age if age is None or age >= 0 else None,
        categories=frozenset(cmd.categories) if cmd.categories is not None else None,
    )


def _check_documents(
    cmd: SubmitApplication, edition: Edition, facts: ApplicationFacts, problems: _Problems
) -> tuple[tuple[ReceivedDocument, ...], tuple[str, ...]]:
    by_id = {doc.id: doc for doc in edition.documents}
    received: list[ReceivedDocument] = []
    seen: set[str] = set()
    for i, presented in enumerate(cmd.documents):
        path = f"documents.{i}.document_id"
        doc = by_id.get(presented.document_id)
        if doc is None:
            problems.add(
                "unknown_document",
                path,
                f"document {presented.document_id!r} is not listed by edition {edition.id!r} of this service",
                document_id=presented.document_id,
            )
            continue
        if presented.document_id in seen:
            problems.add("duplicate_document", path, "the document is listed twice", document_id=doc.id)
            continue
        seen.add(presented.document_id)
        if cmd.channel in doc.notarised_copy_at and presented.form == "copy":
            problems.add(
                "notarised_copy_required",
                f"documents.{i}.form",
                f"through channel {cmd.channel!r} only an original or a notarised copy is accepted",
                document_id=doc.id,
                name_kk=doc.name_kk,
                name_en=doc.name_en,
            )
        received.append(
            ReceivedDocument(
                document_id=doc.id, name_kk=doc.name_kk, name_en=doc.name_en, form=presented.form
            )
        )
    undetermined: list[str] = []
    for doc in edition.documents:
        requirement = doc.requirement(facts)
        if doc.id in seen:
            continue
        if requirement is Requirement.REQUIRED:
            problems.add(
                "missing_document",
                "documents",
                f"required document missing: {doc.name_en}",
                document_id=doc.id,
                name_kk=doc.name_kk,
                name_en=doc.name_en,
            )
        elif requirement is Requirement.UNDETERMINED and doc.required:
            undetermined.append(doc.id)
    return tuple(received), tuple(undetermined)


def _check_representation(cmd: SubmitApplication, edition: Edition, problems: _Problems) -> None:
    """A representative's power of attorney must be notarised where the seed says so."""
    rule = edition.representation
    rep = cmd.representative
    if rep is None or rule is None or not rule.applies(cmd.subtype):
        return
    if rule.notarised is NotarisationRule.REQUIRED and not rep.power_of_attorney.notarised:
        problems.add(
            "power_of_attorney_not_notarised",
            "representative.power_of_attorney.notarised",
            f"the standard requires a notarised power of attorney for a representative ({rule.source})",
        )


def _check_family(cmd: SubmitApplication, edition: Edition, problems: _Problems) -> None:
    if not income_tested(edition):
        return
    if not cmd.family_members:
        problems.add(
            "missing_family_members",
            "family_members",
            "this service tests family income: list every family member (relation 'self' for the applicant)",
        )
        return
    for i, member in enumerate(cmd.family_members):
        if member.declared_monthly_income is None:
            problems.add(
                "missing_declared_income",
                f"family_members.{i}.declared_monthly_income",
                "this service tests family income: declare the member's average monthly income",
            )


def _choose(
    cmd: SubmitApplication, catalog: CatalogPort, office: Office, received_at: datetime, problems: _Problems
) -> tuple[Service, EditionChoice] | None:
    try:
        service = catalog.service(cmd.service_id)
    except UnknownService:
        problems.add("unknown_service", "service_id", f"unknown service {cmd.service_id!r}")
        return None
    if not catalog.channel_known(cmd.channel):
        problems.add("unknown_channel", "channel", f"unknown channel {cmd.channel!r}")
        return None
    if cmd.channel not in office.channels:
        problems.add(
            "channel_not_operated",
            "channel",
            f"office {office.id!r} does not receive applications through channel {cmd.channel!r}",
        )
    if cmd.subtype is not None and cmd.subtype not in service.subtypes:
        problems.add("unknown_subtype", "subtype", f"service {service.id!r} has no subtype {cmd.subtype!r}")
    try:
        choice = catalog.choose_edition(service.id, office.region, received_at.astimezone(office.zone).date())
    except (NoEditionInForce, AmbiguousEdition, UnknownRegion) as exc:
        missing = service.standard_missing()
        if missing is not None:
            problems.add("standard_not_in_catalog", "service_id", missing)
        else:
            problems.add("no_edition_in_force", "service_id", str(exc))
        return None
    missing = service.standard_missing((choice.edition,))
    if missing is not None:
        problems.add("standard_not_in_catalog", "service_id", missing)
        return None
    if cmd.channel not in choice.edition.channels:
        problems.add(
            "channel_not_offered",
            "channel",
            f"edition {choice.edition.id!r} of {service.id!r} is not offered through channel {cmd.channel!r}",
        )
    return service, choice


def assess(
    cmd: SubmitApplication, *, catalog: CatalogPort, office: Office | None, received_at: datetime
) -> Acceptance | Rejection:
    """Check a submission; the time `received_at` must be timezone-aware."""
    problems = _Problems()
    if office is None or office.id != cmd.office_id:
        problems.add(
            "unknown_office",
            "office_id",
            f"office {cmd.office_id!r} is not in the offices reference; its region and time zone are unknown",
        )
    local_today = received_at.astimezone(office.zone).date() if office is not None else received_at.date()
    _check_people(cmd, problems, local_today)
    for i, category in enumerate(cmd.categories or ()):
        if not catalog.category_known(category):
            problems.add("unknown_category", f"categories.{i}", f"unknown category {category!r}")
    if office is None or office.id != cmd.office_id:
        return Rejection(tuple(problems.items))
    chosen = _choose(cmd, catalog, office, received_at, problems)
    if chosen is None:
        return Rejection(tuple(problems.items), region=office.region)
    service, choice = chosen
    edition = choice.edition
    local = received_at.astimezone(office.zone)
    documents, undetermined = _check_documents(cmd, edition, _facts(cmd, local), problems)
    _check_representation(cmd, edition, problems)
    _check_family(cmd, edition, problems)
    if problems.items:
        return Rejection(tuple(problems.items), region=office.region, edition_id=edition.id)
    due: datetime | None = None
    note: str | None = None
    try:
        computed = catalog.due(service, edition, cmd.channel, received_at, office, cmd.subtype)
        due, note = computed.at, computed.note
    except (SlaNotDefined, AmbiguousSla, ChannelNotOffered, UnknownSubtype) as exc:
        note = f"no due date computed: {exc}"
    except CatalogError as exc:  # pragma: no cover - any other catalog gap is recorded, not fatal
        note = f"no due date computed: {exc}"
    return Acceptance(
        edition=edition,
        basis=str(choice.basis),
        region=office.region,
        due_at=due,
        due_note=note,
        documents=documents,
        undetermined=undetermined,
    )


def submitted_event(
    cmd: SubmitApplication,
    acceptance: Acceptance,
    *,
    application_id: str,
    registration_number: str,
    received_by: str,
    received_at: datetime,
) -> ApplicationSubmitted:
    return ApplicationSubmitted(
        application_id=application_id,
        registration_number=registration_number,
        service_id=cmd.service_id,
        subtype=cmd.subtype,
        edition_id=acceptance.edition.id,
        edition_basis=acceptance.basis,
        channel=cmd.channel,
        office_id=cmd.office_id,
        region=acceptance.region,
        received_by=received_by,
        received_at=received_at,
        due_at=acceptance.due_at,
        due_note=acceptance.due_note,
        applicant=cmd.applicant,
        representative=cmd.representative,
        family_members=cmd.family_members,
        categories=cmd.categories,
        documents=list(acceptance.documents),
        undetermined_documents=list(acceptance.undetermined),
        idempotency_key=cmd.idempotency_key,
    )


def rejected_event(
    cmd: SubmitApplication,
    rejection: Rejection,
    *,
    application_id: str,
    received_by: str,
    received_at: datetime,
) -> ApplicationRejectedAtIntake:
    return ApplicationRejectedAtIntake(
        application_id=application_id,
        service_id=cmd.service_id,
        channel=cmd.channel,
        office_id=cmd.office_id,
        region=rejection.region,
        edition_id=rejection.edition_id,
        received_by=received_by,
        rejected_at=received_at,
        applicant_iin=cmd.applicant.iin,
        problems=list(rejection.problems),
        idempotency_key=cmd.idempotency_key,
    )
