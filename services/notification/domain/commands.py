"""Commands of the notification service (plain data; one handler each, `service_layer`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from services.notification.domain.delivery import Message, SendOutcome
from shared.contracts.event import DomainEvent


@dataclass(frozen=True)
class NotifyOn:
    """An event of another service arrived (applications, inspections, decisions, complaints)."""

    event: DomainEvent
    event_id: str
    region: str | None = None


@dataclass(frozen=True)
class FanOut:
    """A decisions.v1 event for the ЦОН webhook subscribers (one delivery per subscriber)."""

    event: DomainEvent
    event_id: str
    source: str
    time: datetime
    subject: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class RecordAttempt:
    """What one delivery attempt of a notification came to."""

    notification_id: uuid.UUID
    worker: str
    """The lease token the notification was leased under (`leased_by`)."""
    attempt: int
    give_up_at: datetime
    outcome: SendOutcome
    message: Message | None = None
    """The composed message (paper channels record it in the manifest / pickup list)."""


@dataclass(frozen=True)
class RecordAttempts:
    """Several attempts recorded in one transaction (a round of paper deliveries: nothing was
    sent outside, so nothing is lost by recording them together)."""

    attempts: tuple[RecordAttempt, ...]


@dataclass(frozen=True)
class CollectResult:
    application_id: str


@dataclass(frozen=True)
class ExpireKeeping:
    application_id: str
    worker: str
    """The lease token the keeping record was leased under (`leased_by`)."""


@dataclass(frozen=True)
class Subscribe:
    url: str
    secret: str
    regions: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ("decision.made",)


@dataclass(frozen=True)
class Unsubscribe:
    subscription_id: uuid.UUID


@dataclass(frozen=True)
class Redeliver:
    subscription_id: uuid.UUID
    since: datetime


@dataclass(frozen=True)
class RecordWebhookAttempt:
    delivery_id: uuid.UUID
    worker: str
    """The lease token the delivery was leased under (`leased_by`)."""
    attempt: int
    give_up_at: datetime
    outcome: SendOutcome
    status_code: int | None = None


@dataclass(frozen=True)
class ReadNotifications:
    """Query: the notifications of an application (policy table entry only)."""

    application_id: str


@dataclass(frozen=True)
class ReadLetters:
    """Query: the pickup notices and postal letters of an application (addresses: audited)."""

    application_id: str


@dataclass(frozen=True)
class ReadManifest:
    """Query: an office's post manifest for a period (addresses: audited)."""

    office_id: str
    since: datetime
    until: datetime


@dataclass(frozen=True)
class ReadWebhooks:
    """Query: subscriptions and their delivery logs (policy table entry only)."""
