"""Request and answer bodies of the notification API (no personal data in any answer but the
post's manifest, whose reads are audited; never a webhook secret)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from shared.contracts.notifications import DeliveryState, NotificationChannel, NotificationKind

Region = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
CatalogId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.]*$", max_length=80)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StateEntry(BaseModel):
    state: DeliveryState
    reason: str | None
    attempt: int
    changed_at: datetime


class NotificationView(BaseModel):
    notification_id: uuid.UUID
    kind: NotificationKind
    channel: NotificationChannel
    language: str
    state: DeliveryState
    reason: str | None
    attempt: int
    office_id: str | None
    complaint_id: str | None
    trigger_event_id: str
    created_at: datetime
    updated_at: datetime
    history: list[StateEntry]


class ApplicationNotifications(BaseModel):
    application_id: str
    notifications: list[NotificationView]


class CollectedAnswer(BaseModel):
    application_id: str
    office_id: str
    handed_over_by: str
    collected_at: datetime


class ManifestLine(BaseModel):
    notification_id: uuid.UUID
    application_id: str | None
    office_id: str | None
    language: str
    address: str | None = None
    subject_line: str
    body: str
    recorded_at: datetime
    handed_over_at: datetime | None = None
    """Pickup notices: when the result was collected at the desk."""


class NewSubscription(_Body):
    url: HttpUrl = Field(description="where each delivery is POSTed (http or https)")
    secret: str = Field(min_length=16, max_length=256, description="HMAC-SHA256 key; never shown again")
    regions: list[Region] = Field(default_factory=list, max_length=50, description="empty: every region")
    services: list[CatalogId] = Field(
        default_factory=list, max_length=100, description="empty: every service"
    )
    event_types: list[CatalogId] = Field(
        default_factory=lambda: ["decision.made"],
        min_length=1,
        max_length=30,
        description="decisions.v1 event names, e.g. decision.made, decision.term_extended",
    )


class SubscriptionView(BaseModel):
    subscription_id: uuid.UUID
    url: str
    regions: list[str]
    services: list[str]
    event_types: list[str]
    active: bool
    created_by: str
    created_at: datetime


class RedeliveryRequest(_Body):
    since: datetime = Field(
        description="queue again every matching event that occurred at or after this time"
    )


class RedeliveryAnswer(BaseModel):
    subscription_id: uuid.UUID
    since: datetime
    queued: int


class AttemptEntry(BaseModel):
    attempt: int
    attempted_at: datetime
    status_code: int | None
    outcome: Literal["delivered", "retry", "failed"]
    reason: str | None


class DeliveryEntry(BaseModel):
    delivery_id: uuid.UUID
    event_id: str
    event_type: str
    occurred_at: datetime
    state: DeliveryState
    reason: str | None
    attempt: int
    next_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime
    attempts: list[AttemptEntry]
