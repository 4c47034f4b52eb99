"""Projections of the notification service that `qyzmet replay notification` could rebuild.

None: the notification tables are the service's own working state (a delivery queue with its
leases, attempts and the post's manifest), written in the same transaction as the events that
announce their changes, not a view derived from the event store. Their history is kept in
`notification_history` and is never rebuilt from `NotificationStateChanged`, which does not
repeat the retries within ON_DELIVERY.
"""

from __future__ import annotations

from shared.replay.spec import ProjectionSpec

PROJECTIONS: dict[str, ProjectionSpec] = {}
