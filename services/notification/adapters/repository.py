"""Notifications, their state history and the recipients' contacts in PostgreSQL.

Every method runs on the caller's connection (the unit of work's transaction). Contacts are
personal data: `contacts_of` is the only read of them, for a delivery, and the caller audits it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.notification.domain.delivery import Transition
from shared.db.identifiers import checked_identifier


@dataclass(frozen=True)
class Recipient:
    subject: str
    language: str
    application_id: str | None = None
    office_id: str | None = None
    region: str | None = None
    service_id: str | None = None
    edition_id: str | None = None
    registration_number: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    received_by: str | None = None
    """Who received the application (a ЦОН operator reads only their own submissions)."""
    withdrawn_at: datetime | None = None
    """Set by the decision service's `CaseWithdrawn`: later triggers plan nothing."""
    decided_at: datetime | None = None
    """When the (latest) decision was made; None: not decided yet."""
    result_in_person: bool | None = None
    """Whether the decided result is collected in person (catalog `result_delivery`)."""


@dataclass(frozen=True)
class NewNotification:
    notification_id: uuid.UUID
    trigger_event_id: str
    channel: str
    kind: str
    recipient: str
    application_id: str | None
    complaint_id: str | None
    office_id: str | None
    region: str | None
    language: str
    context: dict[str, Any]
    queued_at: datetime
    give_up_at: datetime


@dataclass(frozen=True)
class Leased:
    """A due notification as the dispatcher holds it."""

    notification_id: uuid.UUID
    channel: str
    kind: str
    recipient: str
    application_id: str | None
    complaint_id: str | None
    office_id: str | None
    language: str
    context: dict[str, Any]
    attempt: int
    give_up_at: datetime
    trigger_event_id: str


_RECIPIENT_COLUMNS = (
    "subject, language, application_id, office_id, region, service_id, edition_id,"
    " registration_number, phone, email, address, received_by, withdrawn_at, decided_at,"
    " result_in_person"
)


class NotificationStore:
    def __init__(self, schema: str, conn: asyncpg.Connection) -> None:
        self.s = checked_identifier(schema)
        self.conn = conn

    async def save_recipient(self, r: Recipient) -> None:
        await self.conn.execute(
            f"INSERT INTO {self.s}.recipients ({_RECIPIENT_COLUMNS})"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
            " ON CONFLICT (subject) DO NOTHING",
            r.subject, r.language, r.application_id, r.office_id, r.region, r.service_id,
            r.edition_id, r.registration_number, r.phone, r.email, r.address, r.received_by,
            r.withdrawn_at, r.decided_at, r.result_in_person,
        )  # fmt: skip

    async def mark_decided(self, subject: str, at: datetime, in_person: bool) -> None:
        """The application was decided (`DecisionMade`): the desk may hand over a paper result."""
        await self.conn.execute(
            f"UPDATE {self.s}.recipients SET decided_at = $2, result_in_person = $3"
            " WHERE subject = $1 AND (decided_at IS NULL OR decided_at <= $2)",
            subject, at, in_person,
        )  # fmt: skip

    async def mark_withdrawn(self, subject: str, at: datetime) -> None:
        """The case was withdrawn (`CaseWithdrawn`): later triggers of it plan nothing."""
        await self.conn.execute(
            f"UPDATE {self.s}.recipients SET withdrawn_at = $2 WHERE subject = $1 AND withdrawn_at IS NULL",
            subject,
            at,
        )

    async def recipient(self, subject: str) -> Recipient | None:
        row = await self.conn.fetchrow(
            f"SELECT {_RECIPIENT_COLUMNS} FROM {self.s}.recipients WHERE subject = $1", subject
        )
        return None if row is None else Recipient(**dict(row))

    async def defer(
        self,
        subject: str,
        event_id: str,
        event_type: str,
        data: dict[str, Any],
        region: str | None,
        now: datetime,
    ) -> None:
        """Keep an event whose recipient is not registered yet (trimmed by the caller; the row
        goes once the registration arrives, or when it has waited too long)."""
        await self.conn.execute(
            f"INSERT INTO {self.s}.deferred_triggers"
            " (subject, event_id, event_type, data, region, received_at)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            subject, event_id, event_type, data, region, now,
        )  # fmt: skip

    async def drop_deferred_before(self, cutoff: datetime) -> int:
        """Forget kept events whose registration never arrived (received before `cutoff`)."""
        rows = await self.conn.fetch(
            f"DELETE FROM {self.s}.deferred_triggers WHERE received_at < $1 RETURNING 1", cutoff
        )
        return len(rows)

    async def take_deferred(self, subject: str) -> list[dict[str, Any]]:
        rows = await self.conn.fetch(
            f"DELETE FROM {self.s}.deferred_triggers WHERE subject = $1"
            " RETURNING event_id, event_type, data, region, received_at",
            subject,
        )
        return sorted((dict(r) for r in rows), key=lambda r: r["received_at"])

    async def queue(self, n: NewNotification) -> bool:
        """Queue one notification (ON_DELIVERY); False if one for this event and channel exists."""
        inserted = await self.conn.fetchval(
            f"INSERT INTO {self.s}.notifications (notification_id, trigger_event_id, channel, kind,"
            " recipient, application_id, complaint_id, office_id, region, language, context, state,"
            " attempt, next_attempt_at, give_up_at, created_at, updated_at) VALUES"
            " ($1, $2, $3, $4, $5, $6, $7, $8, $13, $9, $10::jsonb, 'ON_DELIVERY', 0, $11, $12, $11, $11)"
            " ON CONFLICT (trigger_event_id, channel) DO NOTHING RETURNING true",
            n.notification_id, n.trigger_event_id, n.channel, n.kind, n.recipient, n.application_id,
            n.complaint_id, n.office_id, n.language, n.context, n.queued_at, n.give_up_at, n.region,
        )  # fmt: skip
        if inserted:
            await self._history(n.notification_id, "ON_DELIVERY", None, 0, n.queued_at)
        return bool(inserted)

    async def _history(
        self, notification_id: uuid.UUID, state: str, reason: str | None, attempt: int, at: datetime
    ) -> None:
        await self.conn.execute(
            f"INSERT INTO {self.s}.notification_history"
            " (notification_id, seq, state, reason, attempt, changed_at)"
            f" SELECT $1, coalesce(max(seq), 0) + 1, $2, $3, $4, $5 FROM {self.s}.notification_history"
            " WHERE notification_id = $1",
            notification_id, state, reason, attempt, at,
        )  # fmt: skip

    async def lease_due(self, now: datetime, lease: str, lease_until: datetime, limit: int) -> list[Leased]:
        """Lease due notifications under the token `lease` (one per lease, never a worker's name)."""
        rows = await self.conn.fetch(
            f"UPDATE {self.s}.notifications SET leased_until = $2, leased_by = $3"
            f" WHERE notification_id IN (SELECT notification_id FROM {self.s}.notifications"
            "  WHERE state = 'ON_DELIVERY' AND next_attempt_at <= $1"
            "  AND (leased_until IS NULL OR leased_until < $1)"
            "  ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED)"
            " RETURNING notification_id, channel, kind, recipient, application_id, complaint_id,"
            " office_id, language, context, attempt, give_up_at, trigger_event_id",
            now, lease_until, lease, limit,
        )  # fmt: skip
        return [Leased(**dict(r)) for r in rows]

    async def claim(self, notification_id: uuid.UUID, lease: str, now: datetime, until: datetime) -> bool:
        """Just before sending: is the lease still ours and unexpired (then it is renewed to
        `until`)? Atomic, so a lease that expired meanwhile never sends."""
        done = await self.conn.fetchval(
            f"UPDATE {self.s}.notifications SET leased_until = $4"
            " WHERE notification_id = $1 AND state = 'ON_DELIVERY' AND leased_by = $2 AND leased_until > $3"
            " RETURNING true",
            notification_id, lease, now, until,
        )  # fmt: skip
        return bool(done)

    async def transition(
        self, notification_id: uuid.UUID, t: Transition, now: datetime, worker: str | None
    ) -> dict[str, Any] | None:
        """Apply an attempt's result if the notification is still ON_DELIVERY (and, with `worker`
        - the lease token - still leased under it); the row as it is now, or None if it was not
        ours to change."""
        row = await self.conn.fetchrow(
            f"UPDATE {self.s}.notifications SET state = $2, reason = $3, attempt = $4,"
            " next_attempt_at = $5, leased_until = NULL, leased_by = NULL, updated_at = $6"
            " WHERE notification_id = $1 AND state = 'ON_DELIVERY' AND ($7::text IS NULL OR leased_by = $7)"
            " RETURNING notification_id, application_id, complaint_id, kind, channel, language, state,"
            " reason, attempt, office_id, region, trigger_event_id",
            notification_id, t.state, t.reason, t.attempt, t.next_attempt_at, now, worker,
        )  # fmt: skip
        if row is None:
            return None
        await self._history(notification_id, t.state, t.reason, t.attempt, now)
        return dict(row)

    async def pending_of(self, application_id: str) -> list[tuple[uuid.UUID, int]]:
        """(id, attempts so far) of the application's notifications still on delivery."""
        rows = await self.conn.fetch(
            f"SELECT notification_id, attempt FROM {self.s}.notifications"
            " WHERE application_id = $1 AND state = 'ON_DELIVERY' FOR UPDATE",
            application_id,
        )
        return [(r["notification_id"], r["attempt"]) for r in rows]

    async def of_application(self, application_id: str) -> list[dict[str, Any]]:
        rows = await self.conn.fetch(
            f"SELECT n.notification_id, n.kind, n.channel, n.language, n.state, n.reason, n.attempt,"
            " n.office_id, n.complaint_id, n.trigger_event_id, n.created_at, n.updated_at,"
            " coalesce(jsonb_agg(jsonb_build_object('state', h.state, 'reason', h.reason,"
            "  'attempt', h.attempt, 'changed_at', h.changed_at) ORDER BY h.seq)"
            "  FILTER (WHERE h.seq IS NOT NULL), '[]') AS history"
            f" FROM {self.s}.notifications n LEFT JOIN {self.s}.notification_history h"
            " USING (notification_id) WHERE n.application_id = $1"
            " GROUP BY n.notification_id ORDER BY n.created_at, n.kind, n.channel",
            application_id,
        )
        return [dict(r) for r in rows]

    async def contacts_of(self, notification_id: uuid.UUID) -> Recipient | None:
        """The contacts a notification goes to (personal data: the caller audits the use)."""
        row = await self.conn.fetchrow(
            f"SELECT {', '.join('r.' + c.strip() for c in _RECIPIENT_COLUMNS.split(','))}"
            f" FROM {self.s}.notifications n JOIN {self.s}.recipients r ON r.subject = n.recipient"
            " WHERE n.notification_id = $1",
            notification_id,
        )
        return None if row is None else Recipient(**dict(row))

    async def record_letter(
        self,
        channel: str,
        row: Mapping[str, Any],
        subject_line: str,
        body: str,
        now: datetime,
        address: str | None,
    ) -> None:
        """A letter in the post's manifest, or a notice on the office's pickup list."""
        if channel == "post":
            await self.conn.execute(
                f"INSERT INTO {self.s}.post_manifest (notification_id, application_id, office_id, language,"
                " address, subject_line, body, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                " ON CONFLICT (notification_id) DO NOTHING",
                row["notification_id"], row["application_id"], row["office_id"], row["language"], address,
                subject_line, body, now,
            )  # fmt: skip
        else:
            await self.conn.execute(
                f"INSERT INTO {self.s}.pickup_notices (notification_id, application_id, office_id, language,"
                " subject_line, body, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                " ON CONFLICT (notification_id) DO NOTHING",
                row["notification_id"], row["application_id"], row["office_id"], row["language"],
                subject_line, body, now,
            )  # fmt: skip

    async def hand_over_notices(self, application_id: str, at: datetime) -> None:
        await self.conn.execute(
            f"UPDATE {self.s}.pickup_notices SET handed_over_at = $2"
            " WHERE application_id = $1 AND handed_over_at IS NULL",
            application_id,
            at,
        )

    async def manifest(self, office_id: str, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """The post's manifest of an office: letters recorded in [since, until)."""
        rows = await self.conn.fetch(
            f"SELECT * FROM {self.s}.post_manifest WHERE office_id = $1 AND recorded_at >= $2"
            " AND recorded_at < $3 ORDER BY recorded_at, notification_id",
            office_id,
            since,
            until,
        )
        return [dict(r) for r in rows]

    async def paper(self, table: str, application_id: str) -> list[dict[str, Any]]:
        """The post's manifest or the pickup list of an application (personal data: audited)."""
        name = {"post": "post_manifest", "pickup": "pickup_notices"}[table]
        rows = await self.conn.fetch(
            f"SELECT * FROM {self.s}.{name} WHERE application_id = $1 ORDER BY recorded_at", application_id
        )
        return [dict(r) for r in rows]
