"""The notification contract (`notifications.v1`): what became of each notification to an applicant,
and of the result waiting to be collected.

One notification is one message of one kind (talon issued, decision made, ...) on one channel,
caused by one event (`trigger_event_id`): the notification service sends exactly one per event and
channel. Its delivery states are the e-government gateway's: ON_DELIVERY, DELIVERED,
NOT_DELIVERED, DELIVERY_STOPPED. Nothing here is personal data: no address, phone, name or text
travels on this topic (the status view shows "decision sent / delivered / not delivered").

The notification service owns this module: it may add events and optional fields; the fields the
intake status view reads keep their meaning.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from shared.contracts.event import DomainEvent
from shared.contracts.registry import EventRegistry

NotificationKind = Literal[
    "talon_issued",
    "intake_refused",
    "inspection_scheduled",
    "decision_made",
    "term_extended",
    "complaint_registered",
    "complaint_review_extended",
    "complaint_resolved",
    "result_uncollected",
]
"""What the applicant is told."""

NotificationChannel = Literal["sms", "email", "post", "pickup"]
"""SMS, e-mail, a postal letter (a line of the post's manifest), or a notice handed over in
person when the applicant comes to collect."""

DeliveryState = Literal["ON_DELIVERY", "DELIVERED", "NOT_DELIVERED", "DELIVERY_STOPPED"]
"""The e-government gateway's delivery states. NOT_DELIVERED: a permanent failure, or the give-up
period passed; DELIVERY_STOPPED: sending was stopped (no usable contact, template error, the
application withdrawn)."""


class NotificationStateChanged(DomainEvent):
    """A notification entered a delivery state (the first one, ON_DELIVERY, when it is queued)."""

    event_name = "notification.state_changed"
    event_version = 1

    notification_id: str
    application_id: str | None
    complaint_id: str | None = None
    kind: NotificationKind
    channel: NotificationChannel
    language: str
    state: DeliveryState
    reason: str | None = None
    """Why it failed or stopped (no personal data: e.g. `smtp: 550 mailbox unavailable`)."""
    attempt: int
    office_id: str | None
    trigger_event_id: str
    """The `ce_id` of the event that caused the notification."""
    changed_at: datetime


class ResultCollected(DomainEvent):
    """The applicant (or representative) collected the result at the office."""

    event_name = "notification.result_collected"
    event_version = 1

    application_id: str
    office_id: str
    handed_over_by: str
    collected_at: datetime


class ResultUncollected(DomainEvent):
    """The catalog's keeping period passed without collection: the result went to storage."""

    event_name = "notification.result_uncollected"
    event_version = 1

    application_id: str
    service_id: str
    office_id: str
    ready_since: datetime
    kept_until: date
    keeping_basis: str
    """The catalog rule the keeping period comes from (its value and citation)."""
    storage_step: str
    """Where the result went, as the catalog names it (e.g. the archive of the authorised body)."""
    recorded_at: datetime


NOTIFICATION_EVENTS = EventRegistry([NotificationStateChanged, ResultCollected, ResultUncollected])
"""Events published on `notifications.v1`."""

NOTIFICATION_INTERNAL_EVENTS: tuple[type[DomainEvent], ...] = ()
"""Events the notification service stores and never publishes."""
