"""Results waiting at the office: collected (`ResultCollected`, by the desk), or not collected
within the catalog's keeping period (`ResultUncollected` with the storage step, and a
notification to the applicant)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from services.notification.adapters.notification_rows import Recipient
from services.notification.domain.commands import (
    CollectResult,
    ExpireKeeping,
    NotifyOn,
    ReadLetters,
    ReadManifest,
    ReadNotifications,
)
from services.notification.domain.policy import POLICY
from services.notification.service_layer.planning import Planner
from services.notification.service_layer.recipients import application_subject
from services.notification.service_layer.unit_of_work import NotificationUnit
from shared.auth.policy import Target
from shared.contracts.notifications import ResultCollected, ResultUncollected
from shared.domain.errors import Conflict, NotFound
from shared.service_layer import Meta

Clock = Callable[[], datetime]


def stream_of(application_id: str) -> str:
    return f"result-{application_id}"


class ResultHandlers:
    def __init__(self, planner: Planner, clock: Clock) -> None:
        self.planner = planner
        self.clock = clock

    async def collect(self, cmd: CollectResult, uow: NotificationUnit, meta: Meta) -> ResultCollected:
        actor = meta.actor
        keeping = await uow.keeping.get(cmd.application_id, lock=True)
        recipient = await uow.notifications.recipient(application_subject(cmd.application_id))
        office = keeping["office_id"] if keeping else (recipient.office_id if recipient else None)
        region = keeping["region"] if keeping else (recipient.region if recipient else None)
        missing = f"no result waiting for application {cmd.application_id!r}"
        if office is None:
            raise NotFound(missing)
        POLICY.check_scope(
            CollectResult,
            actor.role,
            actor.office,
            actor.subject,
            Target(office, region),
            hide=True,
            not_found=missing,
        )
        if keeping is not None and keeping["state"] != "waiting":
            raise Conflict(f"the result of application {cmd.application_id!r} is {keeping['state']} already")
        if keeping is None:
            _check_handed_over_in_person(cmd.application_id, recipient)
        now = self.clock()
        event = ResultCollected(
            application_id=cmd.application_id,
            office_id=office,
            handed_over_by=actor.subject,
            collected_at=now,
        )
        if keeping is not None:
            await uow.keeping.close(cmd.application_id, "collected", now)
        elif await _collected_before(uow, cmd.application_id):
            raise Conflict(f"the result of application {cmd.application_id!r} is collected already")
        await uow.record(stream_of(cmd.application_id), [event], meta, office=office, region=region)
        await uow.notifications.hand_over_notices(cmd.application_id, now)
        await uow.audit_action(
            meta, "result.handed_over", f"application/{cmd.application_id}", {"office": office}
        )
        return event

    async def letters(self, cmd: ReadLetters, uow: NotificationUnit, meta: Meta) -> list[dict[str, Any]]:
        actor = meta.actor
        recipient = await uow.notifications.recipient(application_subject(cmd.application_id))
        missing = f"no letters of application {cmd.application_id!r}"
        if recipient is None:
            raise NotFound(missing)
        target = Target(recipient.office_id, recipient.region, recipient.received_by)
        POLICY.check_scope(
            ReadLetters, actor.role, actor.office, actor.subject, target, hide=True, not_found=missing
        )
        pickup = await uow.notifications.paper("pickup", cmd.application_id)
        post = await uow.notifications.paper("post", cmd.application_id)
        if post:
            await uow.audit_action(
                meta, "personal_data.read", f"application/{cmd.application_id}",
                {"what": "postal addresses of the post's manifest", "letters": len(post)},
            )  # fmt: skip
        return [*pickup, *post]

    async def notifications(
        self, cmd: ReadNotifications, uow: NotificationUnit, meta: Meta
    ) -> list[dict[str, Any]]:
        """The application's notifications the actor may see: its office's (auditors and
        administrators: every office), a ЦОН operator's own submissions only; else none."""
        actor = meta.actor
        POLICY.check_role(ReadNotifications, actor.role)
        recipient = await uow.notifications.recipient(application_subject(cmd.application_id))
        received_by = recipient.received_by if recipient else None
        rows = await uow.notifications.of_application(cmd.application_id)
        return [
            row
            for row in rows
            if POLICY.may_act_on(
                ReadNotifications,
                actor.role,
                actor.office,
                actor.subject,
                Target(row["office_id"], None, received_by),
            )
        ]

    async def manifest(self, cmd: ReadManifest, uow: NotificationUnit, meta: Meta) -> list[dict[str, Any]]:
        actor = meta.actor
        POLICY.check_scope(ReadManifest, actor.role, actor.office, actor.subject, Target(cmd.office_id))
        rows = await uow.notifications.manifest(cmd.office_id, cmd.since, cmd.until)
        await uow.audit_action(
            meta, "personal_data.read", f"post-manifest/{cmd.office_id}",
            {"since": cmd.since.isoformat(), "until": cmd.until.isoformat(), "letters": len(rows)},
        )  # fmt: skip
        return rows

    async def expire(self, cmd: ExpireKeeping, uow: NotificationUnit, meta: Meta) -> ResultUncollected | None:
        keeping = await uow.keeping.get(cmd.application_id, lock=True)
        if keeping is None or keeping["state"] != "waiting" or keeping["leased_by"] != cmd.worker:
            return None
        now = self.clock()
        event = ResultUncollected(
            application_id=cmd.application_id,
            service_id=keeping["service_id"],
            office_id=keeping["office_id"],
            ready_since=keeping["ready_since"],
            kept_until=keeping["kept_until"],
            keeping_basis=keeping["keeping_basis"],
            storage_step=keeping["storage_step"],
            recorded_at=now,
        )
        await uow.keeping.close(cmd.application_id, "uncollected", now)
        await uow.record(
            stream_of(cmd.application_id),
            [event],
            meta,
            office=keeping["office_id"],
            region=keeping["region"],
        )
        # The notification's trigger is the keeping record's own decision event: one notice per result.
        trigger = f"{keeping['trigger_event_id']}/uncollected"
        await self.planner.handle(NotifyOn(event, trigger, keeping["region"]), uow, meta)
        return event


def _check_handed_over_in_person(application_id: str, recipient: Recipient | None) -> None:
    """Without a keeping record, a result is handed over only for a decided application whose
    result is collected in person."""
    if recipient is None or recipient.decided_at is None:
        raise Conflict(f"application {application_id!r} is not decided yet: there is no result to hand over")
    if recipient.withdrawn_at is not None:
        raise Conflict(f"application {application_id!r} was withdrawn: there is no result to hand over")
    if not recipient.result_in_person:
        raise Conflict(
            f"the result of application {application_id!r} is not collected in person"
            " (the service's result_delivery names no desk)"
        )


async def _collected_before(uow: NotificationUnit, application_id: str) -> bool:
    return bool(await uow.events.stream_version(stream_of(application_id)))
