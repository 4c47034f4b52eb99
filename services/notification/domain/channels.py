"""Which channels carry a notification: the applicant's contacts, the service's ways of
delivering its result (catalog `result_delivery`), and the channels this installation runs.

E-mail and SMS carry every notice to whoever gave an address or a phone. The decision also goes
as a postal letter where the service delivers results by post and an address is known, and as
a pickup notice where the result is collected in person (at the office or a ЦОН); a complaint's
answer goes by post (DOMAIN.md §9) when an address is known. No channel at all is possible (no
contacts): then nothing is queued and the status view says nothing was sent.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from shared.contracts.notifications import NotificationChannel, NotificationKind

IN_PERSON_DELIVERY = frozenset({"in_person", "via_tson"})
"""Catalog `result_delivery` values that mean the applicant collects a paper result."""

ALL_CHANNELS: tuple[NotificationChannel, ...] = ("email", "sms", "post", "pickup")


@dataclass(frozen=True)
class ContactKinds:
    """Which contacts a recipient gave (never the contacts themselves)."""

    email: bool = False
    phone: bool = False
    address: bool = False


def collect_in_person(result_delivery: Collection[str]) -> bool:
    return bool(IN_PERSON_DELIVERY & set(result_delivery))


def channels_for(
    kind: NotificationKind,
    contacts: ContactKinds,
    result_delivery: Collection[str],
    enabled: Collection[str] = ALL_CHANNELS,
) -> list[NotificationChannel]:
    chosen: list[NotificationChannel] = []
    if contacts.email:
        chosen.append("email")
    if contacts.phone:
        chosen.append("sms")
    if kind == "decision_made":
        if "post" in result_delivery and contacts.address:
            chosen.append("post")
        if collect_in_person(result_delivery):
            chosen.append("pickup")
    elif kind == "complaint_resolved" and contacts.address:
        chosen.append("post")
    return [channel for channel in chosen if channel in enabled]
