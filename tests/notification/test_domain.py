"""The pure rules: what an attempt leads to, which channels carry a notice, the keeping period,
signatures (stale ones refused), and the personal data a webhook body leaves out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from services.notification.domain.channels import ContactKinds, channels_for
from services.notification.domain.delivery import (
    Backoff,
    Delivered,
    PermanentFailure,
    Stopped,
    TemporaryFailure,
    after_attempt,
)
from services.notification.domain.keeping import keeping_of
from services.notification.domain.signing import sign, signed_headers, verify_signature
from services.notification.domain.webhooks import Subscription, without_personal_data
from shared.catalog.sla_models import ResultStorage

from .events import decided, submitted

NOW = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
BACKOFF = Backoff(initial_s=30, max_s=600, give_up_s=4 * 3600)


def test_after_an_attempt() -> None:
    give_up = BACKOFF.give_up_at(NOW)
    assert after_attempt(Delivered(), 1, NOW, give_up, BACKOFF).state == "DELIVERED"
    refused = after_attempt(PermanentFailure("smtp: recipient refused 550"), 1, NOW, give_up, BACKOFF)
    assert (refused.state, refused.reason, refused.next_attempt_at) == (
        "NOT_DELIVERED", "smtp: recipient refused 550", None,
    )  # fmt: skip
    assert after_attempt(Stopped("template x"), 1, NOW, give_up, BACKOFF).state == "DELIVERY_STOPPED"
    waits = [
        after_attempt(TemporaryFailure("down"), n, NOW, give_up, BACKOFF).next_attempt_at
        for n in (1, 2, 3, 6, 9)
    ]
    assert [w - NOW for w in waits if w] == [timedelta(seconds=s) for s in (30, 60, 120, 600, 600)]
    last = after_attempt(TemporaryFailure("down"), 3, give_up - timedelta(seconds=5), give_up, BACKOFF)
    assert last.state == "ON_DELIVERY" and last.next_attempt_at == give_up  # one last try at the give-up time
    final = after_attempt(TemporaryFailure("down"), 4, give_up, give_up, BACKOFF)
    assert final.state == "NOT_DELIVERED" and final.reason == "gave up after 4 attempts: down"
    assert Backoff().give_up_s == 4 * 3600  # the default give-up period: about 4 hours


def test_channels_follow_contacts_and_the_services_delivery() -> None:
    everything = ContactKinds(email=True, phone=True, address=True)
    assert channels_for("talon_issued", everything, ("in_person", "post")) == ["email", "sms"]
    assert channels_for("decision_made", everything, ("in_person", "post")) == [
        "email",
        "sms",
        "post",
        "pickup",
    ]
    assert channels_for("decision_made", ContactKinds(address=True), ("in_person",)) == ["pickup"]
    assert channels_for("decision_made", ContactKinds(), ("portal_cabinet",)) == []
    assert channels_for("complaint_resolved", ContactKinds(address=True), ()) == ["post"]
    assert channels_for("decision_made", everything, ("in_person", "post"), enabled=("email",)) == ["email"]


def test_keeping_period_from_the_catalog_only() -> None:
    astana = ZoneInfo("Asia/Almaty")
    storage = ResultStorage(
        keeper="tson", max=1, unit="months", then="handed to the authorised body (L696-700)"
    )
    keeping = keeping_of(storage, datetime(2025, 1, 31, 20, 0, tzinfo=UTC), astana, "ed, 004.txt L1-2")
    assert keeping is not None
    assert str(keeping.kept_until) == "2025-03-01"  # decided on 1 Feb local time, kept 1 month
    assert keeping.expires_at == datetime(2025, 3, 2, tzinfo=astana)
    assert keeping.storage_step == "handed to the authorised body (L696-700)"
    assert keeping_of(None, NOW, astana, "") is None  # no period in the seeds: no timer
    working = ResultStorage(keeper="tson", max=5, unit="working_days", then="x")
    assert keeping_of(working, NOW, astana, "") is None  # not a unit storage terms use: no guess


def test_signatures_and_stale_timestamps() -> None:
    body = b'{"id":"1"}'
    headers = signed_headers("s3cret-0123456789abcd", body, now=1_700_000_000)
    stamp, signature = headers["X-Qyzmet-Timestamp"], headers["X-Qyzmet-Signature"]
    assert signature == sign("s3cret-0123456789abcd", stamp, body) and signature.startswith("sha256=")
    assert verify_signature("s3cret-0123456789abcd", stamp, body, signature, now=1_700_000_100)
    assert not verify_signature(
        "s3cret-0123456789abcd", stamp, body, signature, tolerance=300, now=1_700_000_301
    )
    assert not verify_signature("other-secret-0123456789", stamp, body, signature, now=1_700_000_000)
    assert not verify_signature("s3cret-0123456789abcd", stamp, body + b" ", signature, now=1_700_000_000)
    assert not verify_signature("s3cret-0123456789abcd", "not-a-time", body, signature)


def test_subscription_filters_and_bodies_without_personal_data() -> None:
    sub = Subscription("s1", "http://x", regions=("astana",), services=("basic_state_pension_payment",))
    assert sub.wants("decision.made", "astana", "basic_state_pension_payment")
    assert not sub.wants("decision.made", "akmola", "basic_state_pension_payment")
    assert not sub.wants("decision.term_extended", "astana", "basic_state_pension_payment")
    assert not sub.wants("decision.made", "astana", "targeted_social_assistance")
    data = without_personal_data(decided(submitted()))
    member = data["evaluation"]["inputs"]["household"][0]
    assert member["relation"] == "self" and "full_name" not in member and "monthly_income" not in member
    assert data["decided_at"] == "2025-03-14T09:00:00+00:00" and data["outcome"] == "approved"
