"""Notifications, their state history and the recipients' contacts in PostgreSQL.

Every method runs on the caller's connection (the unit of work's transaction). Contacts are
personal data: `claim_to_send` (the address a delivery goes to) and `transition` (a letter's
postal address, into the post's manifest) are the only reads of them, for a delivery, and the
caller audits it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from services.notification.adapters.notification_rows import (
    RECIPIENT_COLUMNS,
    Claimed,
    Leased,
    Letter,
    NewNotification,
    Recipient,
)
from services.notification.domain.delivery import Transition
from shared.db.identifiers import checked_identifier
from shared.db.pool import dumps


async def lock_subjects(conn: asyncpg.Connection, schema: str, subjects: Sequence[str]) -> None:
    """The recipients' locks (`NotificationStore.lock_subject`), in a fixed order: two batches that
    share recipients do not deadlock."""
    await conn.fetchval(
        "SELECT count(pg_advisory_xact_lock(hashtext($1), hashtext(s))) FROM unnest($2::text[]) AS s",
        f"{schema}.recipients",
        sorted(set(subjects)),
    )


class NotificationStore:
    def __init__(self, schema: str, conn: asyncpg.Connection) -> None:
        self.s = checked_identifier(schema)
        self.conn = conn

    async def register(self, r: Recipient) -> list[dict[str, Any]]:
        """Keep the recipient (the first registration stands) and take the events kept until it
        arrived (`defer`), oldest first: one statement. Call under `lock_subject`."""
        rows = await self.conn.fetch(
            f"WITH saved AS (INSERT INTO {self.s}.recipients ({RECIPIENT_COLUMNS})"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
            " ON CONFLICT (subject) DO NOTHING)"
            f" DELETE FROM {self.s}.deferred_triggers WHERE subject = $1"
            " RETURNING event_id, event_type, data, region, received_at",
            r.subject, r.language, r.application_id, r.office_id, r.region, r.service_id,
            r.edition_id, r.registration_number, r.phone, r.email, r.address, r.received_by,
            r.withdrawn_at, r.decided_at, r.result_in_person,
        )  # fmt: skip
        return sorted((dict(r) for r in rows), key=lambda r: r["received_at"])

    async def decided(self, subject: str, at: datetime, in_person: bool) -> Recipient | None:
        """The registered recipient as it was, marked decided (`DecisionMade`: the desk may hand
        over a paper result) unless the case was withdrawn or a later decision is known: one
        statement."""
        row = await self.conn.fetchrow(
            f"WITH known AS (SELECT {RECIPIENT_COLUMNS} FROM {self.s}.recipients WHERE subject = $1),"
            f" marked AS (UPDATE {self.s}.recipients SET decided_at = $2, result_in_person = $3"
            "  WHERE subject = $1 AND withdrawn_at IS NULL AND (decided_at IS NULL OR decided_at <= $2))"
            " SELECT * FROM known",
            subject, at, in_person,
        )  # fmt: skip
        return None if row is None else Recipient(**dict(row))

    async def mark_withdrawn(self, subject: str, at: datetime) -> None:
        """The case was withdrawn (`CaseWithdrawn`): later triggers of it plan nothing."""
        await self.conn.execute(
            f"UPDATE {self.s}.recipients SET withdrawn_at = $2 WHERE subject = $1 AND withdrawn_at IS NULL",
            subject,
            at,
        )

    async def recipient(self, subject: str) -> Recipient | None:
        row = await self.conn.fetchrow(
            f"SELECT {RECIPIENT_COLUMNS} FROM {self.s}.recipients WHERE subject = $1", subject
        )
        return None if row is None else Recipient(**dict(row))

    async def lock_subject(self, subject: str) -> None:
        """Serialise, until the transaction ends, a registration and the keeping of an event for
        the same recipient: they run concurrently in two transactions (two topics, partitions
        handled at once), and neither sees what the other has not committed. Whichever comes
        second sees the first (`defer` finds the recipient, `register` the kept event)."""
        await lock_subjects(self.conn, self.s, [subject])

    async def defer(
        self,
        subject: str,
        event_id: str,
        event_type: str,
        data: dict[str, Any],
        region: str | None,
        now: datetime,
    ) -> bool:
        """Keep an event whose recipient is not registered yet (trimmed by the caller; the row
        goes once the registration arrives, or when it has waited too long). False, keeping
        nothing, if the recipient is registered now. Call under `lock_subject`."""
        registered = await self.conn.fetchval(
            "WITH known AS (SELECT EXISTS"
            f"  (SELECT FROM {self.s}.recipients WHERE subject = $1::text) AS registered),"
            f" kept AS (INSERT INTO {self.s}.deferred_triggers"
            "  (subject, event_id, event_type, data, region, received_at)"
            "  SELECT $1, $2::text, $3::text, $4::jsonb, $5::text, $6::timestamptz FROM known"
            "  WHERE NOT known.registered ON CONFLICT DO NOTHING)"
            " SELECT registered FROM known",
            subject, event_id, event_type, data, region, now,
        )  # fmt: skip
        return not registered

    async def drop_deferred_before(self, cutoff: datetime) -> int:
        """Forget kept events whose registration never arrived (received before `cutoff`)."""
        rows = await self.conn.fetch(
            f"DELETE FROM {self.s}.deferred_triggers WHERE received_at < $1 RETURNING 1", cutoff
        )
        return len(rows)

    async def queue(self, ns: Sequence[NewNotification]) -> list[NewNotification]:
        """Queue notifications (ON_DELIVERY, with their first history row) in one statement;
        those queued now (one for the same trigger and channel may exist already)."""
        if not ns:
            return []
        rows = await self.conn.fetch(
            f"WITH queued AS (INSERT INTO {self.s}.notifications (notification_id, trigger_event_id,"
            " channel, kind, recipient, application_id, complaint_id, office_id, region, language,"
            " context, state, attempt, next_attempt_at, give_up_at, created_at, updated_at)"
            " SELECT u.id, u.trigger, u.channel, u.kind, u.recipient, u.application_id, u.complaint_id,"
            " u.office_id, u.region, u.language, u.context::jsonb, 'ON_DELIVERY', 0, u.queued_at,"
            " u.give_up_at, u.queued_at, u.queued_at FROM unnest($1::uuid[], $2::text[], $3::text[],"
            " $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],"
            " $11::text[], $12::timestamptz[], $13::timestamptz[]) AS u(id, trigger, channel, kind,"
            " recipient, application_id, complaint_id, office_id, region, language, context, queued_at,"
            " give_up_at) ON CONFLICT (trigger_event_id, channel) DO NOTHING"
            " RETURNING notification_id, created_at),"
            f" history AS (INSERT INTO {self.s}.notification_history"
            " (notification_id, seq, state, reason, attempt, changed_at)"
            " SELECT notification_id, 1, 'ON_DELIVERY', NULL, 0, created_at FROM queued)"
            " SELECT notification_id FROM queued",
            [n.notification_id for n in ns], [n.trigger_event_id for n in ns], [n.channel for n in ns],
            [n.kind for n in ns], [n.recipient for n in ns], [n.application_id for n in ns],
            [n.complaint_id for n in ns], [n.office_id for n in ns], [n.region for n in ns],
            [n.language for n in ns], [dumps(n.context) for n in ns], [n.queued_at for n in ns],
            [n.give_up_at for n in ns],
        )  # fmt: skip
        queued = {r["notification_id"] for r in rows}
        return [n for n in ns if n.notification_id in queued]

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

    async def claim_to_send(
        self, notification_id: uuid.UUID, lease: str, now: datetime, until: datetime
    ) -> Claimed | None:
        """Just before sending: is the lease still ours and unexpired (then it is renewed to
        `until`)? Atomic, so a lease that expired meanwhile never sends. With the claim, in the
        same statement, the one contact the channel sends to (personal data: the caller audits
        its use); None if the lease is not ours."""
        return (await self.claim_all_to_send([notification_id], lease, now, until)).get(notification_id)

    async def claim_all_to_send(
        self, notification_ids: Sequence[uuid.UUID], lease: str, now: datetime, until: datetime
    ) -> dict[uuid.UUID, Claimed]:
        """`claim_to_send` for several notifications in one statement: those still ours."""
        rows = await self.conn.fetch(
            f"WITH claimed AS (UPDATE {self.s}.notifications SET leased_until = $4"
            " WHERE notification_id = ANY($1::uuid[]) AND state = 'ON_DELIVERY' AND leased_by = $2"
            " AND leased_until > $3 RETURNING notification_id, recipient, channel)"
            " SELECT c.notification_id, r.subject IS NOT NULL AS known, CASE c.channel"
            " WHEN 'email' THEN r.email WHEN 'sms' THEN r.phone WHEN 'post' THEN r.address END AS address"
            f" FROM claimed c LEFT JOIN {self.s}.recipients r ON r.subject = c.recipient",
            list(notification_ids), lease, now, until,
        )  # fmt: skip
        return {r["notification_id"]: Claimed(r["known"], r["address"]) for r in rows}

    async def transition(
        self,
        notification_id: uuid.UUID,
        t: Transition,
        now: datetime,
        worker: str | None,
        letter: Letter | None = None,
    ) -> dict[str, Any] | None:
        """Apply an attempt's result if the notification is still ON_DELIVERY (and, with `worker`
        - the lease token - still leased under it), with its history row and, for a paper
        channel's delivery, its `letter` (the post's manifest with the recipient's address, or the
        office's pickup list): one statement. The row as it is now, or None if it was not ours to
        change.

        The history's next number is read in the statement's snapshot: every caller holds the
        notification's row lock before this statement (the lease's holder alone changes a leased
        notification; `pending_of` locks the rows it stops), so no other transition commits
        between that snapshot and the update."""
        letters = ""
        if letter is not None:  # written for the paper channels only, as the row's channel says
            letters = (
                f", post AS (INSERT INTO {self.s}.post_manifest (notification_id, application_id, office_id,"
                " language, address, subject_line, body, recorded_at) SELECT c.notification_id,"
                " c.application_id, c.office_id, c.language,"
                f" (SELECT r.address FROM {self.s}.recipients r WHERE r.subject = c.recipient), $8, $9, $6"
                " FROM changed c WHERE c.channel = 'post' ON CONFLICT (notification_id) DO NOTHING),"
                f" pickup AS (INSERT INTO {self.s}.pickup_notices (notification_id, application_id,"
                " office_id, language, subject_line, body, recorded_at) SELECT c.notification_id,"
                " c.application_id, c.office_id, c.language, $8, $9, $6 FROM changed c"
                " WHERE c.channel = 'pickup'"
                " ON CONFLICT (notification_id) DO NOTHING)"
            )
        row = await self.conn.fetchrow(
            f"WITH changed AS (UPDATE {self.s}.notifications SET state = $2, reason = $3, attempt = $4,"
            " next_attempt_at = $5, leased_until = NULL, leased_by = NULL, updated_at = $6"
            " WHERE notification_id = $1 AND state = 'ON_DELIVERY' AND ($7::text IS NULL OR leased_by = $7)"
            " RETURNING notification_id, application_id, complaint_id, kind, channel, language, state,"
            " reason, attempt, office_id, region, trigger_event_id, recipient),"
            f" history AS (INSERT INTO {self.s}.notification_history"
            " (notification_id, seq, state, reason, attempt, changed_at)"
            " SELECT c.notification_id, (SELECT coalesce(max(h.seq), 0) + 1"
            f"  FROM {self.s}.notification_history h WHERE h.notification_id = c.notification_id),"
            f" c.state, c.reason, c.attempt, $6 FROM changed c){letters}"
            " SELECT * FROM changed",
            notification_id, t.state, t.reason, t.attempt, t.next_attempt_at, now, worker,
            *((letter.subject_line, letter.body) if letter is not None else ()),
        )  # fmt: skip
        return None if row is None else dict(row)

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
