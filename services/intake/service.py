"""Intake use cases (the service layer): submit, withdraw, supplement.

Each runs on a connection inside the caller's transaction, so the events, the idempotency key,
the registration number and the audit record commit together. The HTTP handlers and the Kafka
command consumer call the same functions.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from services.intake.adapters.catalog import CatalogAdapter
from services.intake.adapters.repository import ApplicationRepository, body_hash
from services.intake.domain.application import (
    ApplicationState,
    CommandRefused,
    decide_supplement,
    decide_withdraw,
)
from services.intake.domain.intake import Acceptance, assess, rejected_event, submitted_event
from services.intake.domain.ports import OfficeDirectory
from shared.audit import AuditEntry, AuditLog
from shared.contracts.applications import (
    ApplicationRejectedAtIntake,
    ApplicationSubmitted,
    IntakeProblem,
    PresentedDocument,
    SubmitApplication,
)
from shared.contracts.event import DomainEvent

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Actor:
    """Who issues a command: a token's subject, or an office system's `ce_actor`."""

    subject: str
    role: str
    office: str


@dataclass(frozen=True)
class SubmitResult:
    event: ApplicationSubmitted | ApplicationRejectedAtIntake
    replayed: bool

    @property
    def accepted(self) -> bool:
        return isinstance(self.event, ApplicationSubmitted)


class IdempotencyConflict(Exception):
    """The idempotency key was used before with a different request body."""

    def __init__(self, key: str, application_id: str) -> None:
        super().__init__(
            f"idempotency key {key!r} was used for a different request (application {application_id})"
        )
        self.key = key
        self.application_id = application_id


class IntakeService:
    def __init__(
        self, schema: str, catalog: CatalogAdapter, offices: OfficeDirectory, clock: Clock = utc_now
    ) -> None:
        self.schema = schema
        self.catalog = catalog
        self.offices = offices
        self.clock = clock
        self.repo = ApplicationRepository(schema)
        self.audit = AuditLog(schema)

    @staticmethod
    def _metadata(
        actor: Actor, correlation_id: str | None, causation_id: str | None
    ) -> dict[str, str | None]:
        return {
            "correlation_id": correlation_id,
            "causation_id": causation_id,
            "actor": actor.subject,
            "office": actor.office,
        }

    async def submit(
        self,
        conn: asyncpg.Connection,
        cmd: SubmitApplication,
        actor: Actor,
        *,
        correlation_id: str | None,
        causation_id: str | None = None,
    ) -> SubmitResult:
        """Accept or reject a submission; the same key and body again returns the first outcome."""
        digest = body_hash(cmd.model_dump(mode="json"))
        scope = cmd.office_id
        replay = await self._replay(conn, scope, cmd.idempotency_key, digest)
        if replay is not None:
            return replay
        now = self.clock()
        office = self.offices.office(cmd.office_id)
        verdict = assess(cmd, catalog=self.catalog, office=office, received_at=now)
        application_id = str(uuid.uuid4())
        outcome = "accepted" if isinstance(verdict, Acceptance) else "rejected"
        if not await self.repo.claim_key(conn, scope, cmd.idempotency_key, digest, application_id, outcome):
            replay = await self._replay(conn, scope, cmd.idempotency_key, digest)
            assert replay is not None
            return replay
        event: ApplicationSubmitted | ApplicationRejectedAtIntake
        if isinstance(verdict, Acceptance):
            assert office is not None
            number = await self.repo.next_registration_number(
                conn, office.id, now.astimezone(office.zone).year
            )
            event = submitted_event(
                cmd,
                verdict,
                application_id=application_id,
                registration_number=number,
                received_by=actor.subject,
                received_at=now,
            )
            details: dict[str, object] = {
                "outcome": outcome,
                "service_id": cmd.service_id,
                "channel": cmd.channel,
                "registration_number": number,
                "edition_id": verdict.edition.id,
            }
        else:
            event = rejected_event(
                cmd, verdict, application_id=application_id, received_by=actor.subject, received_at=now
            )
            details = {
                "outcome": outcome,
                "service_id": cmd.service_id[:80],
                "channel": cmd.channel[:80],
                "problems": sorted({p.code for p in verdict.problems}),
            }
        await self.repo.append(
            conn, application_id, [event], 0, self._metadata(actor, correlation_id, causation_id)
        )
        await self._audit(conn, actor, "application.submit", application_id, details, correlation_id)
        return SubmitResult(event, replayed=False)

    async def record_malformed(
        self,
        conn: asyncpg.Connection,
        *,
        service_id: str,
        channel: str,
        idempotency_key: str,
        problems: Sequence[IntakeProblem],
        actor: Actor,
        correlation_id: str | None,
    ) -> ApplicationRejectedAtIntake:
        """Record a submission refused before it could even be read as one (fields missing or
        malformed): it still counts as a refused application in the quality indicators."""
        application_id = str(uuid.uuid4())
        event = ApplicationRejectedAtIntake(
            application_id=application_id,
            service_id=service_id[:80],
            channel=channel[:80],
            office_id=actor.office,
            received_by=actor.subject,
            rejected_at=self.clock(),
            problems=list(problems),
            idempotency_key=idempotency_key[:128],
        )
        await self.repo.append(conn, application_id, [event], 0, self._metadata(actor, correlation_id, None))
        details = {
            "outcome": "rejected",
            "service_id": service_id[:80],
            "channel": channel[:80],
            "problems": sorted({p.code for p in problems}),
        }
        await self._audit(conn, actor, "application.submit", application_id, details, correlation_id)
        return event

    async def _replay(
        self, conn: asyncpg.Connection, scope: str, key: str, digest: str
    ) -> SubmitResult | None:
        record = await self.repo.find_key(conn, scope, key)
        if record is None:
            return None
        if record.body_hash != digest:
            raise IdempotencyConflict(key, str(record.application_id))
        _, events = await self.repo.load(conn, str(record.application_id))
        first = events[0]
        assert isinstance(first, ApplicationSubmitted | ApplicationRejectedAtIntake)
        return SubmitResult(first, replayed=True)

    async def load(self, conn: asyncpg.Connection, application_id: str) -> ApplicationState:
        state, _ = await self.repo.load(conn, application_id)
        return state

    async def _change(
        self,
        conn: asyncpg.Connection,
        state: ApplicationState,
        events: Sequence[DomainEvent],
        actor: Actor,
        action: str,
        correlation_id: str | None,
    ) -> None:
        assert state.application_id is not None
        await self.repo.append(
            conn, state.application_id, events, state.version, self._metadata(actor, correlation_id, None)
        )
        details = {"events": [e.event_name for e in events]}
        await self._audit(conn, actor, action, str(state.application_id), details, correlation_id)

    async def _audit(
        self,
        conn: asyncpg.Connection,
        actor: Actor,
        action: str,
        application_id: str,
        details: Mapping[str, object],
        correlation_id: str | None,
    ) -> None:
        """The audit record of a command, in the command's transaction."""
        await self.audit.append(
            conn,
            AuditEntry(
                actor=actor.subject,
                role=actor.role,
                office=actor.office,
                action=action,
                subject=f"application/{application_id}",
                details=dict(details),
                correlation_id=correlation_id,
            ),
        )

    async def withdraw(
        self,
        conn: asyncpg.Connection,
        state: ApplicationState,
        actor: Actor,
        *,
        reason: str | None,
        correlation_id: str | None,
    ) -> list[DomainEvent]:
        events = decide_withdraw(state, by=actor.subject, at=self.clock(), reason=reason)
        await self._change(conn, state, events, actor, "application.withdraw", correlation_id)
        return events

    async def supplement(
        self,
        conn: asyncpg.Connection,
        state: ApplicationState,
        documents: Sequence[PresentedDocument],
        actor: Actor,
        *,
        correlation_id: str | None,
    ) -> list[DomainEvent]:
        if state.service_id is None or state.edition_id is None:
            raise CommandRefused(404, "Not found", "no such application")
        edition = self.catalog.edition(state.service_id, state.edition_id)
        events = decide_supplement(
            state, documents, {d.id: d for d in edition.documents}, by=actor.subject, at=self.clock()
        )
        await self._change(conn, state, events, actor, "application.supplement_documents", correlation_id)
        return events
