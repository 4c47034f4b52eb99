"""The intake use cases, each inside the unit of work the bus opened: the events, the
idempotency key, the registration number and the audit record commit together."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from services.intake.adapters.repository import KeyClaim, body_hash, decode_stored
from services.intake.domain.application import (
    ApplicationState,
    decide_case_progress,
    decide_supplement,
    decide_withdraw,
    evolve,
)
from services.intake.domain.commands import (
    LookUpByIin,
    RecordCaseProgress,
    RecordMalformedSubmission,
    SupplementDocuments,
    WithdrawApplication,
)
from services.intake.domain.identity import iin_problem
from services.intake.domain.intake import Acceptance, assess, rejected_event, submitted_event
from services.intake.domain.policy import POLICY
from services.intake.domain.ports import CatalogPort, OfficeDirectory
from services.intake.service_layer.unit_of_work import IntakeUnit
from shared.audit import AuditEntry
from shared.audit.pseudonyms import pseudonym
from shared.auth.policy import Target
from shared.catalog.errors import CatalogError
from shared.catalog.models import Edition
from shared.contracts.applications import ApplicationRejectedAtIntake, ApplicationSubmitted, SubmitApplication
from shared.contracts.event import DomainEvent
from shared.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.eventstore import StoredEvent
from shared.service_layer import Meta

Clock = Callable[[], datetime]
ALMATY = ZoneInfo("Asia/Almaty")
"""The date of an ИИН lookup by someone with no office of the reference (an auditor's "hq")."""


class EditionSource(CatalogPort, Protocol):
    def edition(self, service_id: str, edition_id: str) -> Edition: ...


@dataclass(frozen=True)
class SubmitResult:
    event: ApplicationSubmitted | ApplicationRejectedAtIntake
    replayed: bool
    stored: StoredEvent | None = None
    """The outcome as stored, when this is a repeat of an earlier submission (a Kafka reply)."""
    service_names: tuple[str | None, str | None] = (None, None)
    """The service's names (Kazakh, English) for the talon; none for a service the catalog lacks."""
    channel_kind: str = "unknown"
    """The channel as a metric label: only one the catalog knows, never a client's invention."""

    @property
    def accepted(self) -> bool:
        return isinstance(self.event, ApplicationSubmitted)


@dataclass(frozen=True)
class Changed:
    state: ApplicationState
    events: list[DomainEvent]


class IntakeHandlers:
    def __init__(
        self, catalog: EditionSource, offices: OfficeDirectory, clock: Clock, pseudonym_key: str
    ) -> None:
        self.catalog = catalog
        self.offices = offices
        self.clock = clock
        self.pseudonym_key = pseudonym_key

    def table(self) -> dict[type, Any]:
        """The bus's handler table: command type -> handler."""
        return {
            SubmitApplication: self.submit,
            RecordMalformedSubmission: self.record_malformed,
            WithdrawApplication: self.withdraw,
            SupplementDocuments: self.supplement,
            LookUpByIin: self.look_up_by_iin,
            RecordCaseProgress: self.record_case_progress,
        }

    # ------------------------------------------------------------------ submissions

    async def submit(self, cmd: SubmitApplication, uow: IntakeUnit, meta: Meta) -> SubmitResult:
        """Accept or reject a submission; the same key and body again returns the first outcome."""
        result = await self._submit(cmd, uow, meta)
        try:
            service = self.catalog.service(result.event.service_id)
            names: tuple[str | None, str | None] = (service.name_kk, service.name_en)
        except CatalogError:
            names = (None, None)
        channel = cmd.channel if self.catalog.channel_known(cmd.channel) else "unknown"
        return replace(result, service_names=names, channel_kind=channel)

    async def _submit(self, cmd: SubmitApplication, uow: IntakeUnit, meta: Meta) -> SubmitResult:
        actor = meta.actor
        if not POLICY.may_act_on(
            SubmitApplication, actor.role, actor.office, actor.subject, Target(cmd.office_id)
        ):
            POLICY.check_role(SubmitApplication, actor.role)
            raise Forbidden(f"office {actor.office!r} may not submit for office {cmd.office_id!r}")
        digest = body_hash(cmd.model_dump(mode="json"))
        scope = cmd.office_id
        now = self.clock()
        office = self.offices.office(cmd.office_id)
        verdict = assess(cmd, catalog=self.catalog, office=office, received_at=now)
        application_id = str(uuid.uuid4())
        outcome = "accepted" if isinstance(verdict, Acceptance) else "rejected"
        # The key and (for an acceptance) the office's number in one statement that queues for the
        # office's turn before writing (a repeat finds the key taken and answers from the first
        # outcome), then the event, the office's audit chain, COMMIT (issue 14).
        claim = KeyClaim(scope, cmd.idempotency_key, digest, application_id, outcome)
        event: ApplicationSubmitted | ApplicationRejectedAtIntake
        if isinstance(verdict, Acceptance):
            assert office is not None
            number = await uow.numbers.claim_with_number(claim, office.id, now.astimezone(office.zone).year)
            if number is None:
                return await self._replayed(uow, scope, cmd.idempotency_key, digest)
            event = submitted_event(
                cmd, verdict, application_id=application_id, registration_number=number,
                received_by=actor.subject, received_at=now,
            )  # fmt: skip
            details: dict[str, object] = {
                "outcome": outcome,
                "service_id": cmd.service_id,
                "channel": cmd.channel,
                "registration_number": number,
                "edition_id": verdict.edition.id,
            }
        else:
            if not await uow.keys.claim(scope, cmd.idempotency_key, digest, application_id, outcome):
                return await self._replayed(uow, scope, cmd.idempotency_key, digest)
            event = rejected_event(
                cmd, verdict, application_id=application_id, received_by=actor.subject, received_at=now
            )
            details = {
                "outcome": outcome,
                "service_id": cmd.service_id[:80],
                "channel": cmd.channel[:80],
                "problems": sorted({p.code for p in verdict.problems}),
            }
        # the event and the audit record in one statement: one round trip less under the office's turn
        entry = _entry(meta, "application.submit", application_id, details)
        await uow.applications.append_audited(application_id, [event], 0, meta.event_metadata(), entry)
        return SubmitResult(event, replayed=False)

    async def _replayed(self, uow: IntakeUnit, scope: str, key: str, digest: str) -> SubmitResult:
        """The first outcome of a key another transaction recorded first."""
        replay = await self._replay(uow, scope, key, digest)
        assert replay is not None
        return replay

    async def _replay(self, uow: IntakeUnit, scope: str, key: str, digest: str) -> SubmitResult | None:
        record = await uow.keys.find(scope, key)
        if record is None:
            return None
        if record.body_hash != digest:
            raise Conflict(
                "this key was used with a different request body; a new application needs a new key",
                title="Idempotency key reused",
                application_id=str(record.application_id),
            )
        _, stored = await uow.applications.load(str(record.application_id))
        first = decode_stored(stored[0])
        assert isinstance(first, ApplicationSubmitted | ApplicationRejectedAtIntake)
        return SubmitResult(first, replayed=True, stored=stored[0])

    async def record_malformed(
        self, cmd: RecordMalformedSubmission, uow: IntakeUnit, meta: Meta
    ) -> SubmitResult:
        """Record a submission refused before it could be read; a retry with the same key and
        body is the same refusal (one record), as for `submit`."""
        POLICY.check_role(RecordMalformedSubmission, meta.actor.role)
        scope, key, digest = meta.actor.office, cmd.idempotency_key, cmd.body_digest
        keyed = bool(key) and digest is not None
        if keyed:
            assert digest is not None
            replay = await self._replay(uow, scope, key, digest)
            if replay is not None:
                return replay
        application_id = str(uuid.uuid4())
        if keyed:
            assert digest is not None
            if not await uow.keys.claim(scope, key, digest, application_id, "rejected"):
                replay = await self._replay(uow, scope, key, digest)
                assert replay is not None
                return replay
        event = ApplicationRejectedAtIntake(
            application_id=application_id,
            service_id=cmd.service_id[:80],
            channel=cmd.channel[:80],
            office_id=meta.actor.office,
            received_by=meta.actor.subject,
            rejected_at=self.clock(),
            problems=list(cmd.problems),
            idempotency_key=cmd.idempotency_key[:128],
        )
        details = {
            "outcome": "rejected",
            "service_id": cmd.service_id[:80],
            "channel": cmd.channel[:80],
            "problems": sorted({p.code for p in cmd.problems}),
        }
        entry = _entry(meta, "application.submit", application_id, details)
        await uow.applications.append_audited(application_id, [event], 0, meta.event_metadata(), entry)
        return SubmitResult(event, replayed=False)

    # ------------------------------------------------------------------ changes

    async def withdraw(self, cmd: WithdrawApplication, uow: IntakeUnit, meta: Meta) -> Changed:
        state = await self._load_in_scope(uow, WithdrawApplication, cmd.application_id, meta)
        events = decide_withdraw(state, by=meta.actor.subject, at=self.clock(), reason=cmd.reason)
        return await self._change(uow, state, events, meta, "application.withdraw")

    async def supplement(self, cmd: SupplementDocuments, uow: IntakeUnit, meta: Meta) -> Changed:
        state = await self._load_in_scope(uow, SupplementDocuments, cmd.application_id, meta)
        if state.service_id is None or state.edition_id is None:
            raise NotFound("no such application")
        edition = self.catalog.edition(state.service_id, state.edition_id)
        events = decide_supplement(
            state, cmd.documents, {d.id: d for d in edition.documents}, by=meta.actor.subject, at=self.clock()
        )
        return await self._change(uow, state, events, meta, "application.supplement_documents")

    async def record_case_progress(self, cmd: RecordCaseProgress, uow: IntakeUnit, meta: Meta) -> Changed:
        """A step of the case, learnt from the decision service (the service's own step: not
        audited, as the decision service audits what its officers did)."""
        POLICY.check_role(RecordCaseProgress, meta.actor.role)
        state, _ = await uow.applications.load(cmd.progress.application_id)
        events = decide_case_progress(state, cmd.progress)
        if events:
            assert state.application_id is not None
            await uow.applications.append(state.application_id, events, state.version, meta.event_metadata())
        after = state
        for event in events:
            after = evolve(after, event)
        return Changed(after, events)

    async def _load_in_scope(
        self, uow: IntakeUnit, command: type, application_id: str, meta: Meta
    ) -> ApplicationState:
        POLICY.check_role(command, meta.actor.role)
        state, _ = await uow.applications.load(application_id)
        if state.application_id is None or state.office_id is None:
            raise NotFound("no such application")
        actor = meta.actor
        target = Target(state.office_id, submitted_by=state.received_by)
        # Another office's (or operator's) application answers as a missing one: not revealed.
        POLICY.check_scope(
            command, actor.role, actor.office, actor.subject, target,
            hide=True, not_found="no such application",
        )  # fmt: skip
        return state

    async def _change(
        self, uow: IntakeUnit, state: ApplicationState, events: list[DomainEvent], meta: Meta, action: str
    ) -> Changed:
        assert state.application_id is not None
        entry = _entry(meta, action, state.application_id, {"events": [e.event_name for e in events]})
        await uow.applications.append_audited(
            state.application_id, events, state.version, meta.event_metadata(), entry
        )
        after = state
        for event in events:
            after = evolve(after, event)
        return Changed(after, events)

    # ------------------------------------------------------------------ audited reads

    async def look_up_by_iin(self, cmd: LookUpByIin, uow: IntakeUnit, meta: Meta) -> list[dict[str, Any]]:
        """An applicant's applications (a personal-data read: the audit record names a keyed
        pseudonym of whose data was read, never the ИИН)."""
        actor = meta.actor
        POLICY.check_role(LookUpByIin, actor.role)
        office = self.offices.office(actor.office)
        reason = iin_problem(cmd.iin, self.clock().astimezone(office.zone if office else ALMATY).date())
        if reason:
            raise InvalidInput(
                f"invalid ИИН: {reason}",
                title="Request is invalid",
                errors=[{"field": "iin", "reason": reason}],
            )
        rows = await uow.applicants.by_iin(
            cmd.iin,
            POLICY.offices_visible(actor.role, actor.office),
            POLICY.submitter_filter(LookUpByIin, actor.role, actor.subject),
        )
        await uow.audit.append(
            AuditEntry(
                actor=actor.subject,
                role=actor.role,
                office=actor.office,
                action="personal_data.read",
                subject="applicant/by-iin",
                details={
                    "query": "applications by applicant ИИН",
                    "person_pseudonym": pseudonym(self.pseudonym_key, cmd.iin),
                    "results": [str(r["application_id"]) for r in rows][:200],
                },
                correlation_id=meta.correlation_id,
            )
        )
        return rows


def _entry(meta: Meta, action: str, application_id: str, details: Mapping[str, object]) -> AuditEntry:
    """The audit record of a command on an application (written with its events)."""
    return AuditEntry.by(meta.actor, action, f"application/{application_id}", details, meta.correlation_id)
