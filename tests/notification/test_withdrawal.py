"""A withdrawal follows the decision service's ruling: `CaseWithdrawn` stops what is on its way
and the keeping period, and later triggers plan nothing; `WithdrawalTooLate` (the decision was
signed first) stops nothing; intake's `ApplicationWithdrawn` alone stops nothing."""

from __future__ import annotations

import asyncpg

from services.notification.service import NotificationService

from .events import (
    case_withdrawn,
    decided,
    inspection,
    submitted,
    withdrawal_too_late,
    withdrawn,
)
from .helpers import deliver, notify, states


async def test_case_withdrawn_stops_what_is_on_its_way(service: NotificationService) -> None:
    app = submitted()
    await notify(service, app)
    await notify(service, inspection(app))
    await notify(service, case_withdrawn(app))
    assert await deliver(service) == 0
    found = await states(service, app.application_id)
    assert found and {n["state"] for n in found.values()} == {"DELIVERY_STOPPED"}
    assert {n["reason"] for n in found.values()} == {"application withdrawn"}


async def test_a_lagging_trigger_after_case_withdrawn_plans_nothing(service: NotificationService) -> None:
    app = submitted()
    await notify(service, app)
    await notify(service, case_withdrawn(app))
    await notify(service, inspection(app))  # inspections.v1 lagged behind decisions.v1
    found = await states(service, app.application_id)
    assert set(found) == {("talon_issued", "email"), ("talon_issued", "sms")}
    assert {n["state"] for n in found.values()} == {"DELIVERY_STOPPED"}


async def test_withdrawal_too_late_leaves_the_decision_notice_and_keeping(
    service: NotificationService, pool: asyncpg.Pool, notification_schema: str
) -> None:
    app = submitted()
    decision = decided(app)
    await notify(service, app)
    await notify(service, decision)
    await notify(service, withdrawn(app))  # intake accepted it before it learnt of the decision
    await notify(service, withdrawal_too_late(decision))  # the decision service's ruling
    found = await states(service, app.application_id)
    assert found[("decision_made", "email")]["state"] == "ON_DELIVERY"
    assert found[("decision_made", "pickup")]["state"] == "ON_DELIVERY"
    async with pool.acquire() as conn:
        kept = await conn.fetchval(f"SELECT state FROM {notification_schema}.result_keeping")
    assert kept == "waiting"
    await deliver(service)
    found = await states(service, app.application_id)
    assert found[("decision_made", "email")]["state"] == "DELIVERED"


async def test_case_withdrawn_before_the_registration_is_applied_when_it_arrives(
    service: NotificationService,
) -> None:
    app = submitted()
    await notify(service, case_withdrawn(app))  # decisions.v1 overtook applications.v1
    await notify(service, app)
    await notify(service, inspection(app))
    found = await states(service, app.application_id)
    assert set(found) == {("talon_issued", "email"), ("talon_issued", "sms")}
    assert {n["state"] for n in found.values()} == {"DELIVERY_STOPPED"}
