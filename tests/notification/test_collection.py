"""A result is handed over at the desk only for a decided application whose result is collected
in person: otherwise 409 with the reason (and nothing recorded)."""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg

from services.notification.service import NotificationService
from shared.auth.roles import Role

from .events import case_withdrawn, decided, submitted
from .helpers import notify
from .test_api import client
from .test_webhooks import token

CLERK = token(Role.CLERK)


async def test_no_result_to_hand_over_before_the_decision(service: NotificationService) -> None:
    app = submitted()
    await notify(service, app)
    async with client(service) as http:
        r = await http.post(f"/v1/results/{app.application_id}/collected", headers=CLERK)
    assert r.status_code == 409, r.text
    assert "not decided yet" in r.json()["detail"]


async def test_no_result_to_hand_over_when_it_is_not_collected_in_person(
    service: NotificationService,
) -> None:
    app = submitted(service_id="unemployed_registration", edition_id="kz_std_394_as_amended_2012")
    await notify(service, app)
    await notify(service, decided(app))
    async with client(service) as http:
        r = await http.post(f"/v1/results/{app.application_id}/collected", headers=CLERK)
    assert r.status_code == 409, r.text
    assert "not collected in person" in r.json()["detail"]


async def test_no_result_to_hand_over_after_a_withdrawal(service: NotificationService) -> None:
    app = submitted()
    await notify(service, app)
    await notify(service, case_withdrawn(app))
    async with client(service) as http:
        r = await http.post(f"/v1/results/{app.application_id}/collected", headers=CLERK)
    assert r.status_code == 409, r.text


async def test_a_decided_result_without_a_keeping_period_is_handed_over(service: NotificationService) -> None:
    app = submitted(service_id="unemployed_registration", edition_id="krg_2008_standard", region="karaganda")
    await notify(service, app)
    await notify(service, decided(app))
    async with client(service) as http:
        url = f"/v1/results/{app.application_id}/collected"
        assert (await http.post(url, headers=CLERK)).status_code == 200
        assert (await http.post(url, headers=CLERK)).status_code == 409


async def test_the_keeping_period_runs_from_the_due_date_or_a_later_decision(
    service: NotificationService, pool: asyncpg.Pool, notification_schema: str
) -> None:
    on_time, late = submitted(), submitted()
    await notify(service, on_time)
    await notify(service, decided(on_time))  # decided 14 March, due 17 March
    await notify(service, late)
    assert late.due_at is not None
    await notify(service, decided(late, at=late.due_at + timedelta(days=5)))  # decided 22 March
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT application_id, kept_until FROM {notification_schema}.result_keeping"
        )
    kept = {r["application_id"]: r["kept_until"] for r in rows}
    assert kept == {on_time.application_id: date(2025, 4, 17), late.application_id: date(2025, 4, 22)}
