"""Who a notification goes to: the recipients as the registrations give them, and their keys."""

from __future__ import annotations

from typing import Any

from services.notification.adapters.notification_rows import NewNotification, Recipient
from shared.contracts.applications import ApplicationSubmitted
from shared.contracts.complaints import ComplaintRegistered


def application_subject(application_id: str) -> str:
    return f"application/{application_id}"


def complaint_subject(complaint_id: str) -> str:
    return f"complaint/{complaint_id}"


def queued_row(n: NewNotification) -> dict[str, Any]:
    return {
        "notification_id": n.notification_id,
        "application_id": n.application_id,
        "complaint_id": n.complaint_id,
        "kind": n.kind,
        "channel": n.channel,
        "language": n.language,
        "state": "ON_DELIVERY",
        "reason": None,
        "attempt": 0,
        "office_id": n.office_id,
        "region": n.region,
        "trigger_event_id": n.trigger_event_id,
    }


def applicant(event: ApplicationSubmitted) -> Recipient:
    """The applicant's contacts; a representative's where the applicant gave none."""
    contacts = event.applicant.contacts
    if not (contacts.email or contacts.phone or contacts.address) and event.representative is not None:
        contacts = event.representative.contacts
    return Recipient(
        subject=application_subject(event.application_id),
        language=event.applicant.preferred_language,
        application_id=event.application_id,
        office_id=event.office_id,
        region=event.region,
        service_id=event.service_id,
        edition_id=event.edition_id,
        registration_number=event.registration_number,
        phone=contacts.phone,
        email=contacts.email,
        address=contacts.address,
        received_by=event.received_by,
    )


def complainant(event: ComplaintRegistered) -> Recipient:
    c = event.complainant
    return Recipient(
        subject=complaint_subject(event.complaint_id),
        language=c.preferred_language,
        application_id=event.application_id,
        office_id=event.office_id,
        region=event.region,
        service_id=event.service_id,
        registration_number=event.registration_number,
        phone=c.contacts.phone,
        email=c.contacts.email,
        address=c.contacts.address,
    )
