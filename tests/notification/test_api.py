"""The notification API: an application's notifications with their history, scoped by office;
the result handed over at the desk; the keeping period running out (ResultUncollected with the
storage step, and a notice); withdrawals stop what is on its way; complaints; letters (audited)."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import httpx

from services.notification.entrypoints.api import create_app
from services.notification.service import NotificationService
from shared.auth.roles import Role
from shared.eventstore import EventStore

from .conftest import FakeClock, Mailbox
from .events import complaint, contacts, decided, resolved, review_extended, submitted
from .helpers import deliver, notify, states
from .test_webhooks import SECRET, token


def client(service: NotificationService) -> httpx.AsyncClient:
    app = create_app(service, token_secret=SECRET)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://n")


async def stored_events(pool: asyncpg.Pool, schema: str) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    async with pool.acquire() as conn:
        rows = await conn.fetch(f"SELECT event_type, data FROM {schema}.events ORDER BY position")
    return [(r["event_type"], r["data"]) for r in rows]


async def test_notifications_with_history_by_office(service: NotificationService) -> None:
    app = submitted()
    await notify(service, app)
    await deliver(service)
    async with client(service) as http:
        own = await http.get(
            "/v1/notifications", params={"application": app.application_id}, headers=token(Role.CLERK)
        )
        assert own.status_code == 200
        body = own.json()
        assert {(n["kind"], n["channel"], n["state"]) for n in body["notifications"]} == {
            ("talon_issued", "email", "DELIVERED"),
            ("talon_issued", "sms", "DELIVERED"),
        }
        assert [h["state"] for h in body["notifications"][0]["history"]] == ["ON_DELIVERY", "DELIVERED"]
        assert "aigul" not in own.text and "+7701" not in own.text  # no contact in the answer
        other = await http.get(
            "/v1/notifications",
            params={"application": app.application_id},
            headers=token(Role.CLERK, "akmola-1"),
        )
        assert other.status_code == 200 and other.json()["notifications"] == []
        auditor = await http.get(
            "/v1/notifications",
            params={"application": app.application_id},
            headers=token(Role.AUDITOR, "ministry"),
        )
        assert len(auditor.json()["notifications"]) == 2
        assert (
            await http.get("/v1/notifications", params={"application": app.application_id})
        ).status_code == 401
        typo = await http.get("/v1/notifications", params={"aplication": "x"}, headers=token(Role.CLERK))
        assert typo.status_code == 422 and "query.aplication" in typo.text  # not read as "no filter"


async def test_states_are_published_as_events(
    service: NotificationService, pool: asyncpg.Pool, notification_schema: str
) -> None:
    app = submitted(applicant_contacts=contacts(phone=None))
    await notify(service, app)
    await deliver(service)
    events = await stored_events(pool, notification_schema)
    assert [(t, d["state"], d["channel"]) for t, d in events] == [
        ("notification.state_changed", "ON_DELIVERY", "email"),
        ("notification.state_changed", "DELIVERED", "email"),
    ]
    data = events[1][1]
    assert data["application_id"] == app.application_id and data["office_id"] == app.office_id
    assert "aigul" not in str(events)
    async with pool.acquire() as conn:
        meta = await conn.fetchval(f"SELECT metadata FROM {notification_schema}.events LIMIT 1")
    assert meta["region"] == "astana" and meta["office"] == app.office_id
    assert EventStore(notification_schema)  # the relay reads this store (route: notifications.v1)


async def test_result_collected_at_the_desk_stops_the_keeping(
    service: NotificationService, clock: FakeClock, pool: asyncpg.Pool, notification_schema: str
) -> None:
    app = submitted(language="ru")
    await notify(service, app)
    await notify(service, decided(app))
    await deliver(service)
    async with client(service) as http:
        url = f"/v1/results/{app.application_id}/collected"
        assert (await http.post(url, headers=token(Role.SPECIALIST))).status_code == 403
        assert (await http.post(url, headers=token(Role.TSON, "akmola-1"))).status_code == 404
        r = await http.post(url, headers=token(Role.TSON, subject="operator-7"))
        assert r.status_code == 200, r.text
        assert r.json()["handed_over_by"] == "operator-7"
        [notice] = (
            await http.get(
                f"/v1/results/{app.application_id}/letters", headers=token(Role.TSON, subject=app.received_by)
            )
        ).json()
        assert (
            notice["handed_over_at"] == r.json()["collected_at"].replace("Z", "+00:00")
            or notice["handed_over_at"]
        )
        assert (await http.post(url, headers=token(Role.TSON))).status_code == 409
    clock.now += timedelta(days=60)
    assert await service.dispatcher.expire_keeping("w1") == 0
    types = [t for t, _ in await stored_events(pool, notification_schema)]
    assert "notification.result_collected" in types and "notification.result_uncollected" not in types


async def test_uncollected_result_is_recorded_with_its_storage_step_and_the_applicant_told(
    service: NotificationService, clock: FakeClock, smtp: tuple[Mailbox, int], pool: asyncpg.Pool,
    notification_schema: str,
) -> None:  # fmt: skip
    mailbox, _ = smtp
    app = submitted(language="kk")
    await notify(service, app)
    await notify(service, decided(app))
    # kept one month from the application's due date (17 March), not the decision (14 March)
    clock.now = clock.now.replace(
        year=2025, month=4, day=17, hour=18, minute=59
    )  # 23:59 in Astana, still kept
    assert await service.dispatcher.expire_keeping("w1") == 0
    clock.now += timedelta(minutes=2)  # the 18th in Astana: the month has passed
    assert await service.dispatcher.expire_keeping("w1") == 1
    assert await service.dispatcher.expire_keeping("w1") == 0
    [(_, uncollected)] = [
        (t, d) for t, d in await stored_events(pool, notification_schema) if "uncollected" in t
    ]
    assert uncollected["kept_until"] == "2025-04-17"
    assert uncollected["storage_step"] == "handed to the authorised body (L696-700)"
    assert "result_storage: 1 months, keeper tson" in uncollected["keeping_basis"]
    await deliver(service)
    subjects = [m["Subject"] for m in mailbox.messages]
    assert f"Мемлекеттік қызмет нәтижесі алынбады: № {app.registration_number}" in subjects
    found = await states(service, app.application_id)
    assert found[("result_uncollected", "email")]["state"] == "DELIVERED"
    async with client(service) as http:
        r = await http.post(f"/v1/results/{app.application_id}/collected", headers=token(Role.TSON))
        assert r.status_code == 409


async def test_no_keeping_period_in_the_catalog_means_no_timer(
    service: NotificationService, pool: asyncpg.Pool, notification_schema: str
) -> None:
    app = submitted(
        service_id="targeted_social_assistance", edition_id="akmola_2012_regulation", region="akmola"
    )
    await notify(service, app)
    await notify(service, decided(app))
    async with pool.acquire() as conn:
        assert await conn.fetchval(f"SELECT count(*) FROM {notification_schema}.result_keeping") == 0
    found = await states(service, app.application_id)
    assert ("decision_made", "pickup") in found  # collected in person all the same


async def test_postal_letter_goes_to_the_manifest_and_is_read_with_an_audit_record(
    service: NotificationService, pool: asyncpg.Pool, notification_schema: str
) -> None:
    address = "Алматы облысы, Қонаев қ., Абай к-сі, 5"
    app = submitted(
        service_id="targeted_social_assistance", edition_id="almaty_2012_regulation", region="almaty_region",
        office_id="almaty-dept-1", applicant_contacts=contacts(email=None, phone=None, address=address),
    )  # fmt: skip
    await notify(service, app)
    await notify(service, decided(app, "refused"))
    await deliver(service)
    found = await states(service, app.application_id)
    assert set(found) == {("decision_made", "post"), ("decision_made", "pickup")}  # no e-mail, no phone
    assert found[("decision_made", "post")]["state"] == "DELIVERED"
    async with client(service) as http:
        r = await http.get(
            f"/v1/results/{app.application_id}/letters", headers=token(Role.CLERK, "almaty-dept-1")
        )
        assert r.status_code == 200, r.text
        letters = r.json()
        assert {line["address"] for line in letters} == {None, address}
        assert all("Мемлекеттік қызмет көрсетуден бас тартылды." in line["body"] for line in letters)
        other = await http.get(f"/v1/results/{app.application_id}/letters", headers=token(Role.CLERK, "x-1"))
        assert other.status_code == 404
        day = {
            "office": "almaty-dept-1",
            "since": "2025-03-14T00:00:00+05:00",
            "until": "2025-03-15T00:00:00+05:00",
        }
        manifest = await http.get("/v1/post-manifest", params=day, headers=token(Role.CLERK, "almaty-dept-1"))
        assert manifest.status_code == 200, manifest.text
        assert [(line["application_id"], line["address"]) for line in manifest.json()] == [
            (app.application_id, address)
        ]
        foreign = await http.get("/v1/post-manifest", params=day, headers=token(Role.CLERK, "x-1"))
        assert foreign.status_code == 403
        audit = await http.get("/v1/post-manifest", params=day, headers=token(Role.AUDITOR, "ministry"))
        assert len(audit.json()) == 1
    async with pool.acquire() as conn:
        audited = await conn.fetch(f"SELECT action FROM {notification_schema}.audit_log ORDER BY seq")
    actions = [a["action"] for a in audited]
    assert "personal_data.used" in actions and "personal_data.read" in actions


async def test_complainant_is_told_in_their_language(
    service: NotificationService, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, _ = smtp
    app = submitted(language="kk")
    c = complaint(app, language="ru")
    await notify(service, app)
    await notify(service, c)
    await notify(service, review_extended(c))
    await notify(service, resolved(c))
    await deliver(service)
    subjects = [m["Subject"] for m in mailbox.messages]
    assert f"Ваша жалоба зарегистрирована: № {c.registration_number}" in subjects
    assert f"Срок рассмотрения жалобы продлён: № {c.registration_number}" in subjects
    assert f"Ваша жалоба рассмотрена: № {c.registration_number}" in subjects
    found = await states(service, app.application_id)
    assert found[("complaint_resolved", "post")]["state"] == "DELIVERED"  # answers go by post too
    assert found[("complaint_registered", "email")]["language"] == "ru"


async def test_a_decision_that_overtakes_its_submission_is_kept_and_sent_after_it(
    service: NotificationService, smtp: tuple[Mailbox, int], pool: asyncpg.Pool, notification_schema: str
) -> None:
    mailbox, _ = smtp
    app = submitted(language="ru")
    decision_id = await notify(service, decided(app))  # decisions.v1 overtook applications.v1
    await notify(service, decided(app), decision_id)  # and was redelivered
    assert await states(service, app.application_id) == {}
    await notify(service, app)
    await deliver(service)
    found = await states(service, app.application_id)
    assert {kind for kind, _ in found} == {"talon_issued", "decision_made"}
    assert sorted(m["Subject"].split(":")[0] for m in mailbox.messages) == [
        "Ваше заявление принято",
        "По Вашему заявлению принято решение",
    ]
    async with pool.acquire() as conn:
        assert await conn.fetchval(f"SELECT count(*) FROM {notification_schema}.deferred_triggers") == 0
