"""The complaints use cases, each inside the unit of work the bus opened: the events, the
projection row, the timers, the idempotency key, the registration number and the audit record
commit together."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.complaints.adapters.repository import body_hash
from services.complaints.domain.commands import (
    ExtendReview,
    FireReviewTimer,
    ReadComplaint,
    RecordEscalation,
    ResolveComplaint,
)
from services.complaints.domain.complaint import (
    APPROACHING,
    BREACHED,
    ComplaintState,
    decide_escalation,
    decide_extension,
    decide_resolution,
    decide_timer,
)
from services.complaints.domain.policy import POLICY
from services.complaints.service_layer.ports import NATIONAL, CatalogSource, zone_of
from services.complaints.service_layer.reading import names_the_actor, read_one
from services.complaints.service_layer.registration import contested, refused, route
from services.complaints.service_layer.unit_of_work import PgComplaintsUnit
from shared.audit import AuditEntry
from shared.auth.policy import Target
from shared.catalog.deadlines import add_term
from shared.catalog.errors import CatalogError
from shared.contracts.complaints import ComplaintRegistered, FileComplaint
from shared.contracts.event import DomainEvent
from shared.domain.errors import Conflict, Forbidden, InvalidState
from shared.service_layer import Meta

Clock = Callable[[], datetime]


class TimerGone(Exception):
    """The timer was fired or cancelled meanwhile: nothing to do."""


@dataclass(frozen=True)
class Registered:
    event: ComplaintRegistered
    replayed: bool


@dataclass(frozen=True)
class Changed:
    state: ComplaintState
    events: list[DomainEvent]


class ComplaintHandlers:
    def __init__(
        self, catalogs: CatalogSource, clock: Clock, approaching_days: int, skew: timedelta = timedelta(0)
    ) -> None:
        self.catalogs = catalogs
        self.clock = clock
        self.approaching = timedelta(days=approaching_days)
        self.skew = skew
        """How far in the future a complaint's `received_at` may lie (the office's clock)."""

    def table(self) -> dict[type, Any]:
        return {
            FileComplaint: self.register,
            ExtendReview: self.extend,
            ResolveComplaint: self.resolve,
            RecordEscalation: self.escalate,
            FireReviewTimer: self.fire_timer,
            ReadComplaint: read_one,
        }

    async def register(self, cmd: FileComplaint, uow: PgComplaintsUnit, meta: Meta) -> Registered:
        actor = meta.actor
        office = cmd.received_at_office or actor.office
        if not POLICY.may_act_on(FileComplaint, actor.role, actor.office, actor.subject, Target(office)):
            POLICY.check_role(FileComplaint, actor.role)
            raise Forbidden(f"office {actor.office!r} may not register complaints at office {office!r}")
        # The body with its defaults filled in: a retry that spells out the default office is the
        # same request.
        digest = body_hash(cmd.model_copy(update={"received_at_office": office}).model_dump(mode="json"))
        replay = await self._replay(uow, office, cmd.idempotency_key, digest)
        if replay is not None:
            return replay
        catalog = await self.catalogs.current()
        now = self._received(cmd)
        case = await contested(cmd, uow.conn, uow.facts, catalog, now)
        routed = route(cmd, case, catalog)
        zone = catalog.time_zone(case.region)
        local_day = now.astimezone(zone).date()
        try:
            term = catalog.review_term(case.region, local_day)
        except CatalogError as exc:
            raise InvalidState(f"no review term is in force: {exc}", title="Review term unknown") from exc
        due_at = add_term(now, term.term, zone, policy=catalog.catalog.deadline_policy)
        complaint_id = str(uuid.uuid4())
        if not await uow.keys.claim(office, cmd.idempotency_key, digest, complaint_id):
            replay = await self._replay(uow, office, cmd.idempotency_key, digest)
            assert replay is not None
            return replay
        event = ComplaintRegistered(
            complaint_id=complaint_id,
            registration_number=await uow.numbers.next(office, local_day.year),
            subject=cmd.subject, application_id=cmd.application_id, service_id=case.service_id,
            office_id=case.office_id, region=case.region, officer=cmd.officer, channel=cmd.channel,
            registered_by=actor.subject, registered_at=now, registered_at_office=office,
            reviewing_body=routed.body, reviewing_office=routed.office, routing_basis=routed.citation,
            review_due_on=due_at.astimezone(zone).date(), review_due_at=due_at, review_term_basis=term.basis,
            complainant=cmd.complainant, attachments=cmd.attachments, idempotency_key=cmd.idempotency_key,
            text=cmd.text, contested_decision_at=case.decided_at,
        )  # fmt: skip
        await self._commit(uow, ComplaintState(), [event], meta, "complaint.register")
        await self._schedule(uow, complaint_id, now, due_at)
        return Registered(event, replayed=False)

    def _received(self, cmd: FileComplaint) -> datetime:
        """When the office received the complaint: `received_at`, never in the future beyond the
        clock skew allowed; by default now."""
        now = self.clock()
        if cmd.received_at is None:
            return now
        if cmd.received_at > now + self.skew:
            raise refused("received_at", "is in the future (beyond the clock skew allowed)")
        return cmd.received_at

    async def _replay(self, uow: PgComplaintsUnit, scope: str, key: str, digest: str) -> Registered | None:
        record = await uow.keys.find(scope, key)
        if record is None:
            return None
        if record.body_hash != digest:
            raise Conflict(
                "this key was used with a different complaint; a new complaint needs a new key",
                title="Idempotency key reused",
                complaint_id=record.complaint_id,
            )
        state, _ = await uow.complaints.load(record.complaint_id)
        return Registered(state.complaint, replayed=True)

    async def _schedule(
        self, uow: PgComplaintsUnit, complaint_id: str, now: datetime, due_at: datetime
    ) -> None:
        approaching_at = due_at - self.approaching
        if approaching_at > now and self.approaching:
            await uow.timers.schedule(complaint_id, APPROACHING, approaching_at)
        await uow.timers.schedule(complaint_id, BREACHED, due_at)

    async def extend(self, cmd: ExtendReview, uow: PgComplaintsUnit, meta: Meta) -> Changed:
        state = await self._load_as_reviewer(uow, ExtendReview, cmd.complaint_id, meta)
        complaint = state.complaint
        catalog = await self.catalogs.current()
        zone = zone_of(catalog, complaint.region)
        registered_day = complaint.registered_at.astimezone(zone).date()
        try:
            term = catalog.review_term(complaint.region or NATIONAL, registered_day, extended=True)
        except CatalogError as exc:
            raise InvalidState(f"no extended review term is in force: {exc}") from exc
        new_due = add_term(complaint.registered_at, term.term, zone, policy=catalog.catalog.deadline_policy)
        now = self.clock()
        event = decide_extension(
            state, new_due_at=new_due, new_due_on=new_due.astimezone(zone).date(),
            reason=cmd.reason, by=meta.actor.subject, at=now,
        )  # fmt: skip
        changed = await self._commit(uow, state, [event], meta, "complaint.extend_review")
        await uow.timers.cancel(complaint.complaint_id)
        await self._schedule(uow, complaint.complaint_id, now, new_due)
        return changed

    async def resolve(self, cmd: ResolveComplaint, uow: PgComplaintsUnit, meta: Meta) -> Changed:
        state = await self._load_as_reviewer(uow, ResolveComplaint, cmd.complaint_id, meta)
        event = decide_resolution(
            state, outcome=cmd.outcome, reasoning=cmd.reasoning, by=meta.actor.subject, at=self.clock(),
            decision_in_force=await self._contested_decision_in_force(uow, state),
        )  # fmt: skip
        changed = await self._commit(uow, state, [event], meta, "complaint.resolve")
        await uow.timers.cancel(cmd.complaint_id)
        return changed

    async def _contested_decision_in_force(self, uow: PgComplaintsUnit, state: ComplaintState) -> bool:
        """Is the decision the complaint contested still the one in force (the read model's latest
        `DecisionMade`, not reopened since)? Complaints registered before the contested decision
        was recorded (`contested_decision_at` None) keep the earlier rule: yes."""
        complaint = state.complaint
        if complaint.subject != "decision" or complaint.contested_decision_at is None:
            return True
        assert complaint.application_id is not None
        known = await uow.facts.application(uow.conn, complaint.application_id)
        return (
            known is not None
            and known.state == "decided"
            and known.decided_at == complaint.contested_decision_at
        )

    async def escalate(self, cmd: RecordEscalation, uow: PgComplaintsUnit, meta: Meta) -> Changed:
        actor = meta.actor
        POLICY.check_role(RecordEscalation, actor.role)
        state, _ = await uow.complaints.load(cmd.complaint_id)
        complaint = state.complaint
        offices = (complaint.reviewing_office, complaint.registered_at_office)
        if not any(
            POLICY.may_act_on(RecordEscalation, actor.role, actor.office, actor.subject, Target(o))
            for o in offices
        ):
            raise Forbidden(f"office {actor.office!r} neither registered nor reviews this complaint")
        event = decide_escalation(
            state, to=cmd.to, body=cmd.body, note=cmd.note, by=actor.subject, at=self.clock()
        )
        if event is None:  # the same escalation again (a retried request): nothing new
            return Changed(state, [])
        return await self._commit(uow, state, [event], meta, "complaint.record_escalation")

    async def fire_timer(self, cmd: FireReviewTimer, uow: PgComplaintsUnit, meta: Meta) -> Changed:
        POLICY.check_role(FireReviewTimer, meta.actor.role)
        state, _ = await uow.complaints.load(cmd.complaint_id)
        if not await uow.timers.mark_fired(cmd.timer_id, cmd.worker):
            raise TimerGone(cmd.timer_id)
        event = decide_timer(state, cmd.kind, self.clock())
        if event is None:
            return Changed(state, [])
        return await self._commit(uow, state, [event], meta, None)

    async def _load_as_reviewer(
        self, uow: PgComplaintsUnit, command: type, complaint_id: str, meta: Meta
    ) -> ComplaintState:
        actor = meta.actor
        POLICY.check_role(command, actor.role)
        state, _ = await uow.complaints.load(complaint_id)
        reviewing = state.complaint.reviewing_office
        POLICY.check_scope(command, actor.role, actor.office, actor.subject, Target(reviewing))
        if names_the_actor(state.complaint, actor):
            raise Forbidden(
                "this complaint names you as the official complained about: another reviewer decides it"
            )
        return state

    async def _commit(
        self,
        uow: PgComplaintsUnit,
        state: ComplaintState,
        events: list[DomainEvent],
        meta: Meta,
        action: str | None,
    ) -> Changed:
        from services.complaints.domain.complaint import evolve

        after = state
        complaint_id = events[0].complaint_id  # type: ignore[attr-defined]
        if action is None:
            await uow.complaints.append(complaint_id, events, state.version, meta.event_metadata())
        else:  # the events and the command's audit record in one statement
            entry = _entry(meta, action, complaint_id, {"events": [e.event_name for e in events]})
            await uow.complaints.append_audited(
                complaint_id, events, state.version, meta.event_metadata(), entry
            )
        for event in events:
            after = evolve(after, event)
            await uow.rows.apply(event, after.version)
        return Changed(after, events)


def _entry(meta: Meta, action: str, complaint_id: str, details: Mapping[str, object]) -> AuditEntry:
    """The audit record of a command on a complaint (written with its events)."""
    return AuditEntry.by(meta.actor, action, f"complaint/{complaint_id}", details, meta.correlation_id)
