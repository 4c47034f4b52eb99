"""The review term: deadline timers fire from PostgreSQL (also when they came due while no
worker ran), once; the term is extended with notice once, only before it runs out and only on
an unanswered complaint."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from services.complaints.adapters.catalog import ComplaintsCatalog
from services.complaints.adapters.repository import decode_stored
from services.complaints.bootstrap import build
from services.complaints.domain.complaint import stream_id
from shared.auth.roles import Role
from shared.eventstore import EventStore
from tests.complaints.conftest import (
    REVIEWING,
    Clock,
    auth,
    complaint_body,
    decided_application,
    settings,
)

REVIEWER = auth(Role.REVIEWER, REVIEWING)


async def _events(pool: asyncpg.Pool, schema: str, complaint_id: str) -> list[Any]:
    async with pool.acquire() as conn:
        stored = await EventStore(schema).load(conn, stream_id(complaint_id))
    return [decode_stored(e) for e in stored]


async def _file(pool: asyncpg.Pool, schema: str, client: httpx.AsyncClient) -> dict[str, Any]:
    app = await decided_application(pool, schema)
    answer = await client.post("/v1/complaints", json=complaint_body(app.application_id), headers=auth())
    assert answer.status_code == 201, answer.text
    talon: dict[str, Any] = answer.json()
    return talon


async def test_a_breach_that_came_due_while_no_worker_ran_fires_once_after_the_restart(
    pool: asyncpg.Pool,
    complaints_schema: str,
    client: httpx.AsyncClient,
    clock: Clock,
    complaints_catalog: ComplaintsCatalog,
) -> None:
    talon = await _file(pool, complaints_schema, client)
    complaint = talon["complaint_id"]
    # Nothing runs while the term passes: 15 days, then two more (the worker is down).
    clock.advance(days=17)
    restarted = build(pool, complaints_schema, catalog=complaints_catalog, clock=clock, settings=settings())
    assert await restarted.scheduler.fire_due(worker="after-restart") == 2
    assert await restarted.scheduler.fire_due(worker="after-restart") == 0
    names = [e.event_name for e in await _events(pool, complaints_schema, complaint)]
    # Both timers were overdue: "approaching" after the due instant would be a false alarm.
    assert names == ["complaint.registered", "complaint.review_deadline_breached"]
    breached = (await _events(pool, complaints_schema, complaint))[-1]
    assert str(breached.review_due_on) == "2025-03-18" and breached.reviewing_office == REVIEWING
    row = (await client.get("/v1/complaints/queue", headers=REVIEWER)).json()["items"][0]
    assert (row["approaching"], row["breached"]) == (False, True)

    late = await client.post(
        f"/v1/complaints/{complaint}/resolution",
        json={"outcome": "partly_upheld", "reasoning": "late but right"},
        headers=REVIEWER,
    )
    assert late.status_code == 200
    resolved = (await _events(pool, complaints_schema, complaint))[-1]
    assert (resolved.on_time, resolved.reopen_case) == (False, True)


async def test_the_approaching_timer_fires_before_the_term_and_an_answer_cancels_the_rest(
    pool: asyncpg.Pool, complaints_schema: str, client: httpx.AsyncClient, clock: Clock, app: FastAPI
) -> None:
    talon = await _file(pool, complaints_schema, client)
    scheduler = app.state.complaints.service.scheduler
    clock.advance(days=11)
    assert await scheduler.fire_due() == 0
    clock.advance(days=1, hours=14)  # 15 March 19:00 UTC: 3 days before the term ends (a setting)
    assert await scheduler.fire_due() == 1
    await client.post(
        f"/v1/complaints/{talon['complaint_id']}/resolution",
        json={"outcome": "rejected", "reasoning": "no grounds"},
        headers=REVIEWER,
    )
    clock.advance(days=30)
    assert await scheduler.fire_due() == 0


async def test_the_term_is_extended_once_with_notice_and_the_timers_follow(
    pool: asyncpg.Pool, complaints_schema: str, client: httpx.AsyncClient, clock: Clock, app: FastAPI
) -> None:
    talon = await _file(pool, complaints_schema, client)
    complaint = talon["complaint_id"]
    url = f"/v1/complaints/{complaint}/extension"
    clock.advance(days=10)
    denied = await client.post(
        url, json={"reason": "x"}, headers=auth(Role.REVIEWER, "akmola-oblast-department")
    )
    assert denied.status_code == 403
    extended = await client.post(url, json={"reason": "an inspection is needed"}, headers=REVIEWER)
    assert extended.status_code == 200, extended.text
    # 30 calendar days (DEFAULT value) from Monday 3 March 2025: Wednesday 2 April.
    assert extended.json()["review_due_on"] == "2025-04-02"
    event = (await _events(pool, complaints_schema, complaint))[-1]
    assert event.event_name == "complaint.review_extended"
    assert (str(event.previous_due_on), str(event.review_due_on)) == ("2025-03-18", "2025-04-02")
    assert event.reason == "an inspection is needed" and event.extended_by == f"reviewer.officer@{REVIEWING}"

    again = await client.post(url, json={"reason": "once more"}, headers=REVIEWER)
    assert again.status_code == 409 and "only once" in again.json()["detail"]

    scheduler = app.state.complaints.service.scheduler
    clock.advance(days=9)  # 22 March: the old term has passed, the new one has not
    assert await scheduler.fire_due() == 0
    clock.advance(days=12)  # 3 April: past the extended term
    assert await scheduler.fire_due() == 2
    row = (await client.get("/v1/complaints/queue", headers=REVIEWER)).json()["items"][0]
    assert (row["review_due_on"], row["extended"], row["breached"]) == ("2025-04-02", True, True)


async def test_no_extension_after_the_term_ran_out_nor_on_an_answered_complaint(
    pool: asyncpg.Pool, complaints_schema: str, client: httpx.AsyncClient, clock: Clock
) -> None:
    late = await _file(pool, complaints_schema, client)
    answered = await _file(pool, complaints_schema, client)
    await client.post(
        f"/v1/complaints/{answered['complaint_id']}/resolution",
        json={"outcome": "rejected", "reasoning": "no grounds"},
        headers=REVIEWER,
    )
    refused = await client.post(
        f"/v1/complaints/{answered['complaint_id']}/extension", json={"reason": "r"}, headers=REVIEWER
    )
    assert refused.status_code == 409 and "answered" in refused.json()["detail"]
    clock.advance(days=16)
    too_late = await client.post(
        f"/v1/complaints/{late['complaint_id']}/extension", json={"reason": "r"}, headers=REVIEWER
    )
    assert too_late.status_code == 409 and "run out" in too_late.json()["detail"]
    empty = await client.post(
        f"/v1/complaints/{late['complaint_id']}/extension", json={"reason": ""}, headers=REVIEWER
    )
    assert empty.status_code == 422


async def test_an_escalation_is_recorded_by_the_reviewer_or_the_registering_office(
    pool: asyncpg.Pool, complaints_schema: str, client: httpx.AsyncClient
) -> None:
    talon = await _file(pool, complaints_schema, client)
    url = f"/v1/complaints/{talon['complaint_id']}/escalations"
    court = await client.post(url, json={"to": "court", "body": "Karaganda district court"}, headers=auth())
    assert court.status_code == 200 and court.json()["events"] == ["complaint.escalated"]
    stranger = await client.post(
        url, json={"to": "higher_body", "body": "ministry"}, headers=auth(office="akmola-dept-01")
    )
    assert stranger.status_code == 403
    row = (await client.get("/v1/complaints/queue", headers=REVIEWER)).json()["items"][0]
    assert [(e["to"], e["body"]) for e in row["escalations"]] == [("court", "Karaganda district court")]
