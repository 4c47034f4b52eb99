"""ЦОН webhook subscriptions, the decision events they receive, deliveries and the delivery log.

The secret is read only by `lease_due` (to sign); no other query returns it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.notification.domain.delivery import Transition
from services.notification.domain.webhooks import Subscription
from shared.db.identifiers import checked_identifier

_PUBLIC = "subscription_id, url, regions, services, event_types, active, created_by, created_at"


@dataclass(frozen=True)
class WebhookEvent:
    """A decision event as the subscribers get it (`body`) and as they filter it."""

    event_id: str
    event_type: str
    region: str | None
    service_id: str | None
    occurred_at: datetime
    body: str


@dataclass(frozen=True)
class DueDelivery:
    delivery_id: uuid.UUID
    subscription_id: uuid.UUID
    url: str
    secret: str
    event_id: str
    event_type: str
    body: str
    attempt: int
    give_up_at: datetime
    redelivery: bool = False


class WebhookStore:
    def __init__(self, schema: str, conn: asyncpg.Connection) -> None:
        self.s = checked_identifier(schema)
        self.conn = conn

    async def add_subscription(
        self, sub: Subscription, secret: str, created_by: str, now: datetime
    ) -> dict[str, Any]:
        row = await self.conn.fetchrow(
            f"INSERT INTO {self.s}.webhook_subscriptions (subscription_id, url, secret, regions, services,"
            f" event_types, active, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, true, $7, $8)"
            f" RETURNING {_PUBLIC}",
            uuid.UUID(sub.subscription_id), sub.url, secret, list(sub.regions), list(sub.services),
            list(sub.event_types), created_by, now,
        )  # fmt: skip
        assert row is not None
        return dict(row)

    async def subscriptions(self) -> list[dict[str, Any]]:
        rows = await self.conn.fetch(
            f"SELECT {_PUBLIC} FROM {self.s}.webhook_subscriptions ORDER BY created_at"
        )
        return [dict(r) for r in rows]

    async def subscription(self, subscription_id: uuid.UUID) -> dict[str, Any] | None:
        row = await self.conn.fetchrow(
            f"SELECT {_PUBLIC} FROM {self.s}.webhook_subscriptions WHERE subscription_id = $1",
            subscription_id,
        )
        return None if row is None else dict(row)

    async def deactivate(self, subscription_id: uuid.UUID) -> bool:
        done = await self.conn.fetchval(
            f"UPDATE {self.s}.webhook_subscriptions SET active = false WHERE subscription_id = $1"
            " RETURNING true",
            subscription_id,
        )
        if done:  # what was still waiting for it will not be sent
            await self.conn.execute(
                f"UPDATE {self.s}.webhook_deliveries SET state = 'DELIVERY_STOPPED',"
                " reason = 'subscription cancelled', next_attempt_at = NULL, updated_at = now()"
                " WHERE subscription_id = $1 AND state = 'ON_DELIVERY'",
                subscription_id,
            )
        return bool(done)

    async def save_and_queue(
        self, events: Sequence[WebhookEvent], now: datetime, give_up_at: datetime
    ) -> int:
        """Keep each event (for a subscriber who asks later too) and queue one delivery of it to
        every active subscription that wants it (`Subscription.wants`, here in SQL), once per
        subscription and event: one statement for any number of events. How many were queued."""
        if not events:
            return 0
        queued = await self.conn.fetchval(
            "WITH e AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],"
            "  $5::timestamptz[], $6::text[])"
            "  AS e(event_id, event_type, region, service_id, occurred_at, body)),"
            f" saved AS (INSERT INTO {self.s}.webhook_events"
            "  (event_id, event_type, region, service_id, occurred_at, body)"
            "  SELECT * FROM e ON CONFLICT (event_id) DO NOTHING),"
            f" queued AS (INSERT INTO {self.s}.webhook_deliveries (delivery_id, subscription_id, event_id,"
            "  state, attempt, next_attempt_at, give_up_at, created_at, updated_at)"
            "  SELECT gen_random_uuid(), s.subscription_id, e.event_id, 'ON_DELIVERY', 0, $7, $8, $7, $7"
            f"  FROM e JOIN {self.s}.webhook_subscriptions s"
            "  ON s.active AND e.event_type = ANY(s.event_types)"
            "  AND (cardinality(s.regions) = 0 OR e.region = ANY(s.regions))"
            "  AND (cardinality(s.services) = 0 OR e.service_id = ANY(s.services))"
            "  ON CONFLICT (subscription_id, event_id) WHERE redelivery_of IS NULL DO NOTHING RETURNING 1)"
            " SELECT count(*) FROM queued",
            [e.event_id for e in events], [e.event_type for e in events], [e.region for e in events],
            [e.service_id for e in events], [e.occurred_at for e in events], [e.body for e in events],
            now, give_up_at,
        )  # fmt: skip
        return int(queued)

    async def redeliver_since(
        self, sub: Subscription, since: datetime, now: datetime, give_up_at: datetime
    ) -> int:
        """Queue again every event since `since` the subscription wants, each as a new delivery
        (a new id, a fresh attempt count, `redelivery_of` the latest earlier one) in one statement.
        An event with a delivery still under way (leased, or waiting for its retry) is left alone."""
        queued = await self.conn.fetchval(
            f"WITH wanted AS (SELECT e.event_id FROM {self.s}.webhook_events e"
            "  WHERE e.occurred_at >= $2 AND e.event_type = ANY($5::text[])"
            "  AND (cardinality($6::text[]) = 0 OR e.region = ANY($6::text[]))"
            "  AND (cardinality($7::text[]) = 0 OR e.service_id = ANY($7::text[]))"
            f"  AND NOT EXISTS (SELECT 1 FROM {self.s}.webhook_deliveries p"
            "   WHERE p.subscription_id = $1 AND p.event_id = e.event_id AND p.state = 'ON_DELIVERY')),"
            f" queued AS (INSERT INTO {self.s}.webhook_deliveries (delivery_id, subscription_id,"
            "  event_id, state, reason, attempt, next_attempt_at, give_up_at, created_at, updated_at,"
            "  redelivery_of)"
            "  SELECT gen_random_uuid(), $1, w.event_id, 'ON_DELIVERY', 'redelivery requested', 0,"
            "   $3, $4, $3, $3, (SELECT p.delivery_id FROM"
            f"   {self.s}.webhook_deliveries p WHERE p.subscription_id = $1 AND p.event_id = w.event_id"
            "   ORDER BY p.created_at DESC LIMIT 1)"
            "  FROM wanted w RETURNING 1)"
            " SELECT count(*) FROM queued",
            uuid.UUID(sub.subscription_id), since, now, give_up_at, list(sub.event_types),
            list(sub.regions), list(sub.services),
        )  # fmt: skip
        return int(queued)

    async def lease_due(
        self, now: datetime, lease: str, lease_until: datetime, limit: int
    ) -> list[DueDelivery]:
        """Lease due deliveries of active subscriptions under the token `lease`."""
        rows = await self.conn.fetch(
            f"WITH due AS (SELECT d.delivery_id FROM {self.s}.webhook_deliveries d"
            f"  JOIN {self.s}.webhook_subscriptions s ON s.subscription_id = d.subscription_id AND s.active"
            "  WHERE d.state = 'ON_DELIVERY' AND d.next_attempt_at <= $1"
            "  AND (d.leased_until IS NULL OR d.leased_until < $1)"
            "  ORDER BY d.next_attempt_at LIMIT $4 FOR UPDATE OF d SKIP LOCKED),"
            f" leased AS (UPDATE {self.s}.webhook_deliveries d SET leased_until = $2, leased_by = $3"
            "  FROM due WHERE d.delivery_id = due.delivery_id"
            "  RETURNING d.delivery_id, d.subscription_id, d.event_id, d.attempt, d.give_up_at,"
            "  d.redelivery_of IS NOT NULL AS redelivery)"
            " SELECT l.*, s.url, s.secret, e.event_type, e.body"
            f" FROM leased l JOIN {self.s}.webhook_subscriptions s USING (subscription_id)"
            f" JOIN {self.s}.webhook_events e USING (event_id)",
            now, lease_until, lease, limit,
        )  # fmt: skip
        return [DueDelivery(**dict(r)) for r in rows]

    async def claim(self, delivery_id: uuid.UUID, lease: str, now: datetime, until: datetime) -> bool:
        """Just before sending: is the lease still ours and unexpired, and the subscription still
        active (then the lease is renewed to `until`)? Atomic, so an expired lease never sends."""
        done = await self.conn.fetchval(
            f"UPDATE {self.s}.webhook_deliveries d SET leased_until = $4"
            f" FROM {self.s}.webhook_subscriptions s"
            " WHERE d.delivery_id = $1 AND d.state = 'ON_DELIVERY' AND d.leased_by = $2"
            " AND d.leased_until > $3 AND s.subscription_id = d.subscription_id AND s.active"
            " RETURNING true",
            delivery_id, lease, now, until,
        )  # fmt: skip
        return bool(done)

    async def transition(
        self,
        delivery_id: uuid.UUID,
        t: Transition,
        now: datetime,
        worker: str,
        status_code: int | None,
    ) -> bool:
        done = await self.conn.fetchval(
            f"UPDATE {self.s}.webhook_deliveries SET state = $2, reason = $3, attempt = $4,"
            " next_attempt_at = $5, leased_until = NULL, leased_by = NULL, updated_at = $6"
            " WHERE delivery_id = $1 AND state = 'ON_DELIVERY' AND leased_by = $7 RETURNING true",
            delivery_id, t.state, t.reason, t.attempt, t.next_attempt_at, now, worker,
        )  # fmt: skip
        if not done:
            return False
        outcome = {"DELIVERED": "delivered", "ON_DELIVERY": "retry"}.get(t.state, "failed")
        await self.conn.execute(
            f"INSERT INTO {self.s}.webhook_attempts"
            " (delivery_id, attempt, attempted_at, status_code, outcome, reason)"
            f" SELECT $1, coalesce(max(attempt), 0) + 1, $2, $3, $4, $5 FROM {self.s}.webhook_attempts"
            " WHERE delivery_id = $1",
            delivery_id, now, status_code, outcome, t.reason,
        )  # fmt: skip
        return True

    async def log(
        self, subscription_id: uuid.UUID, since: datetime | None, limit: int
    ) -> list[dict[str, Any]]:
        rows = await self.conn.fetch(
            "SELECT d.delivery_id, d.event_id, e.event_type, e.occurred_at, d.state, d.reason, d.attempt,"
            " d.next_attempt_at, d.created_at, d.updated_at,"
            " coalesce(jsonb_agg(jsonb_build_object('attempt', a.attempt, 'attempted_at', a.attempted_at,"
            "  'status_code', a.status_code, 'outcome', a.outcome, 'reason', a.reason) ORDER BY a.attempt)"
            "  FILTER (WHERE a.attempt IS NOT NULL), '[]') AS attempts"
            f" FROM {self.s}.webhook_deliveries d JOIN {self.s}.webhook_events e USING (event_id)"
            f" LEFT JOIN {self.s}.webhook_attempts a USING (delivery_id)"
            " WHERE d.subscription_id = $1 AND ($2::timestamptz IS NULL OR e.occurred_at >= $2)"
            " GROUP BY d.delivery_id, e.event_type, e.occurred_at"
            " ORDER BY e.occurred_at, d.created_at LIMIT $3",
            subscription_id, since, limit,
        )  # fmt: skip
        return [dict(r) for r in rows]
