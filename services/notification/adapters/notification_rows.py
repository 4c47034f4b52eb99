"""The rows the notification store reads and writes: recipients, notifications as queued and as
the dispatcher holds them, and what a delivery needs of them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any


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
class Claimed:
    """A notification claimed to send: whether its recipient is known, and the address."""

    known: bool
    address: str | None


@dataclass(frozen=True)
class Letter:
    """A delivered message as the post's manifest or the pickup list keeps it (a paper channel's)."""

    subject_line: str
    body: str


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


RECIPIENT_COLUMNS = (
    "subject, language, application_id, office_id, region, service_id, edition_id,"
    " registration_number, phone, email, address, received_by, withdrawn_at, decided_at,"
    " result_in_person"
)
"""The columns of `recipients`, in the order of `Recipient`'s fields."""
