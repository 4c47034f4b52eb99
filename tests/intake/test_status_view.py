"""The status view over PostgreSQL follows the whole life: the case's steps move the status and
the history, a decided application is never overdue, a known decision refuses withdrawal (409),
and `qyzmet replay intake` rebuilds the same rows from intake's events alone."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from services.intake.adapters.catalog import CatalogAdapter
from services.intake.adapters.offices import OfficeBook
from services.intake.adapters.projection import ApplicationProjector
from services.intake.domain.commands import RecordCaseProgress
from services.intake.entrypoints.api import create_app
from services.intake.entrypoints.kafka_case_progress import case_progress_handler
from services.intake.projections import PROJECTIONS
from shared.contracts.application_progress import CaseProgressRecorded, CaseStep, GroundRef
from shared.contracts.decisions import (
    DecisionReturnedForRework,
    DecisionSubmittedForSignature,
    ExecutorAssigned,
)
from shared.contracts.event import DomainEvent
from shared.domain.actor import Actor
from shared.messaging.envelope import Envelope
from shared.replay.engine import replay_from_store, verify
from shared.service_layer import Meta
from tests.intake.conftest import SECRET, auth, unemployed_registration, wait_for

PAST = datetime.now(UTC) - timedelta(days=120)
"""Submitted long ago: every term has passed."""
WORKER = Meta(Actor("system:intake", "system", "*"), correlation_id="corr-case")


@pytest.fixture
async def old_app(
    pool: asyncpg.Pool, intake_schema: str, catalog: CatalogAdapter, offices: OfficeBook
) -> AsyncIterator[FastAPI]:
    application = create_app(
        pool, schema=intake_schema, catalog=catalog, offices=offices, clock=lambda: PAST,
        run_projector=True, token_secret=SECRET,
    )  # fmt: skip
    await application.state.intake.start()
    yield application
    await application.state.intake.stop()


@pytest.fixture
async def http(old_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=old_app), base_url="http://intake") as c:
        yield c


def _step(aid: str, name: CaseStep, at: datetime, source_type: str, **facts: Any) -> RecordCaseProgress:
    return RecordCaseProgress(
        CaseProgressRecorded(
            application_id=aid,
            step=name,
            source_event_id=str(uuid.uuid4()),
            source_event_type=source_type,
            occurred_at=at,
            **facts,
        )
    )


async def _caught_up(pool: asyncpg.Pool, schema: str) -> None:
    projector = ApplicationProjector(pool, schema)

    async def done() -> bool:
        return await projector.lag() == 0

    await wait_for(done, timeout=5.0)


async def _submit(http: httpx.AsyncClient) -> str:
    answer = await http.post("/v1/applications", json=unemployed_registration(), headers=auth())
    assert answer.status_code == 201, answer.text
    aid: str = answer.json()["application_id"]
    return aid


async def test_the_view_follows_the_case_and_a_decided_application_is_never_overdue(
    http: httpx.AsyncClient, old_app: FastAPI, pool: asyncpg.Pool, intake_schema: str
) -> None:
    service = old_app.state.intake.deps.service
    decided, pending, withdrawn = [await _submit(http) for _ in range(3)]
    assert (
        await http.post(f"/v1/applications/{withdrawn}/withdrawal", json={}, headers=auth())
    ).status_code == 200
    t = PAST + timedelta(days=1)
    steps = [
        _step(decided, "executor_assigned", t, "decision.executor_assigned", executor="spec-1",
              recorded_by="head-1"),
        _step(pending, "executor_assigned", t, "decision.executor_assigned", executor="spec-2"),
        _step(decided, "decision_made", t + timedelta(hours=2), "decision.made", outcome="refused",
              decided_at=t + timedelta(hours=2), recorded_by="head-1",
              grounds=(GroundRef(id="income_above_poverty_line", text="income above the poverty line"),)),
        # The inspection's completion arrives after the decision (another topic): the case stays decided.
        _step(decided, "inspection_completed", t + timedelta(hours=1), "inspection.completed"),
    ]  # fmt: skip
    for command in steps:
        await service.handle(command, WORKER)
    await _caught_up(pool, intake_schema)

    one = (await http.get(f"/v1/applications/{decided}", headers=auth())).json()
    assert one["due_at"] is not None and datetime.fromisoformat(one["due_at"]) < datetime.now(UTC)
    assert (one["status"], one["overdue"], one["executor"]) == ("decided", False, "spec-1")
    assert one["decision"]["outcome"] == "refused"
    assert one["decision"]["grounds"] == [
        {"id": "income_above_poverty_line", "text": "income above the poverty line"}
    ]
    assert [(h["event_type"], h["status"]) for h in one["history"]] == [
        ("application.submitted", "submitted"),
        ("decision.executor_assigned", "under_review"),
        ("decision.made", "decided"),
        ("inspection.completed", "decided"),
    ]
    assert one["history"][2]["actor"] == "head-1"
    other = (await http.get(f"/v1/applications/{pending}", headers=auth())).json()
    assert (other["status"], other["overdue"]) == ("under_review", True)

    def ids(page: httpx.Response) -> set[str]:
        return {item["application_id"] for item in page.json()["items"]}

    assert ids(await http.get("/v1/applications?overdue=true", headers=auth())) == {pending}
    assert ids(await http.get("/v1/applications?overdue=false", headers=auth())) == {decided, withdrawn}
    assert ids(await http.get("/v1/applications?status=decided", headers=auth())) == {decided}

    refused = await http.post(f"/v1/applications/{decided}/withdrawal", json={"reason": "x"}, headers=auth())
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["type"].endswith("/invalid-state") and problem["title"] == "Decision already signed"
    assert "signed on" in problem["detail"]


async def test_a_draft_awaiting_the_heads_signature_shows_as_awaiting_signature(
    http: httpx.AsyncClient, old_app: FastAPI, pool: asyncpg.Pool, intake_schema: str
) -> None:
    """decisions.v1's submission of a draft for signature, and its return for rework, through the
    case-progress consumer's handler: the view says the draft awaits the head's signature (still
    awaiting its decision, so overdue past the term), then under review again after a return."""
    handle = case_progress_handler(old_app.state.intake.deps.service, "/qyzmet/decision")
    aid = await _submit(http)
    t = PAST + timedelta(days=1)

    async def consumed(event: DomainEvent, at: datetime, actor: str) -> dict[str, Any]:
        envelope = Envelope(
            id=str(uuid.uuid4()), source="/qyzmet/decision", type=event.ce_type(),
            data=event.model_dump(mode="json"), time=at, actor=actor,
        )  # fmt: skip
        async with pool.acquire() as conn, conn.transaction():
            await handle(conn, envelope, event)
        await _caught_up(pool, intake_schema)
        view: dict[str, Any] = (await http.get(f"/v1/applications/{aid}", headers=auth())).json()
        return view

    assigned = ExecutorAssigned(application_id=aid, executor="spec-1", assigned_by="head-1", assigned_at=t)
    await consumed(assigned, t, "head-1")
    submitted = DecisionSubmittedForSignature(application_id=aid, submitted_by="spec-1", submitted_at=t)
    view = await consumed(submitted, t + timedelta(hours=1), "spec-1")
    assert (view["status"], view["overdue"], view["decision"]) == ("awaiting_signature", True, None)
    last = view["history"][-1]
    assert (last["event_type"], last["status"], last["actor"]) == (
        "decision.submitted_for_signature", "awaiting_signature", "spec-1",
    )  # fmt: skip
    listed = await http.get("/v1/applications?status=awaiting_signature", headers=auth())
    assert [item["application_id"] for item in listed.json()["items"]] == [aid]

    returned = DecisionReturnedForRework(application_id=aid, reason="x", returned_by="head-1", returned_at=t)
    view = await consumed(returned, t + timedelta(hours=2), "head-1")
    assert (view["status"], view["overdue"]) == ("under_review", True)
    view = await consumed(submitted, t + timedelta(hours=3), "spec-1")
    assert [h["status"] for h in view["history"]] == [
        "submitted", "under_review", "awaiting_signature", "under_review", "awaiting_signature",
    ]  # fmt: skip


async def test_entitlement_and_reopening_steps_and_the_replay_rebuilds_the_same_rows(
    http: httpx.AsyncClient,
    old_app: FastAPI,
    pool: asyncpg.Pool,
    admin_pool: asyncpg.Pool,
    intake_schema: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service = old_app.state.intake.deps.service
    aid = await _submit(http)
    t = PAST + timedelta(days=2)
    new_due = datetime.now(UTC) + timedelta(days=10)
    for command in (
        _step(aid, "inspection_scheduled", t, "inspection.scheduled", inspection_date=t.date()),
        _step(
            aid, "decision_made", t + timedelta(hours=1), "decision.made", outcome="approved", decided_at=t
        ),
        _step(aid, "entitlement_started", t + timedelta(hours=1), "entitlement.started"),
        _step(aid, "entitlement_suspended", t + timedelta(hours=3), "entitlement.suspended"),
        _step(aid, "reopened", t + timedelta(hours=3), "decision.application_reopened", due_at=new_due),
    ):
        await service.handle(command, WORKER)
    await _caught_up(pool, intake_schema)
    view = (await http.get(f"/v1/applications/{aid}", headers=auth())).json()
    assert [h["status"] for h in view["history"]] == [
        "submitted",
        "inspection_scheduled",
        "decided",
        "entitlement_active",
        "entitlement_suspended",
        "reopened",
    ]
    assert (view["status"], view["overdue"], view["decision"]) == ("reopened", False, None)  # a new term runs
    assert (
        datetime.fromisoformat(view["due_at"]) == new_due and view["inspection_date"] == t.date().isoformat()
    )

    async def snapshot() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        async with pool.acquire() as conn:
            rows = await conn.fetch(f"SELECT * FROM {intake_schema}.applications ORDER BY application_id")
            history = await conn.fetch(
                f"SELECT * FROM {intake_schema}.application_history ORDER BY application_id, version"
            )
        return [dict(r) for r in rows], [dict(h) for h in history]

    before = await snapshot()
    monkeypatch.setenv("INTAKE_SCHEMA", intake_schema)
    spec = PROJECTIONS["applications"]  # what `qyzmet replay intake --verify` runs
    # `qyzmet replay` runs with the administrator's DATABASE_URL: it makes a fresh schema
    result = await replay_from_store(admin_pool, spec, f"{intake_schema}_r")
    try:
        assert result.events == 6
        assert [t.differing for t in await verify(admin_pool, spec, result)] == [0, 0]
        assert await snapshot() == before  # the live rows are not touched
    finally:
        async with admin_pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA {result.target} CASCADE")


async def test_the_view_shows_complaints_their_outcome_and_what_the_applicant_was_told(
    http: httpx.AsyncClient, old_app: FastAPI, pool: asyncpg.Pool, intake_schema: str
) -> None:
    service = old_app.state.intake.deps.service
    aid = await _submit(http)
    t = PAST + timedelta(days=2)
    due = (t + timedelta(days=15)).date()
    email = {"notification_kind": "decision_made", "notification_channel": "email"}
    for command in (
        _step(aid, "decision_made", t, "decision.made", outcome="refused", decided_at=t),
        _step(aid, "notification_state_changed", t + timedelta(minutes=1), "notification.state_changed",
              notification_id="n-1", delivery_state="ON_DELIVERY", **email),
        _step(aid, "complaint_registered", t + timedelta(days=1), "complaint.registered",
              complaint_id="c-1", review_due_on=due),
        _step(aid, "notification_state_changed", t + timedelta(minutes=2), "notification.state_changed",
              notification_id="n-1", delivery_state="DELIVERED", **email),
        _step(aid, "complaint_resolved", t + timedelta(days=3), "complaint.resolved",
              complaint_id="c-1", complaint_outcome="upheld"),
        _step(aid, "result_collected", t + timedelta(days=4), "notification.result_collected"),
    ):  # fmt: skip
        await service.handle(command, WORKER)
    await _caught_up(pool, intake_schema)
    view = (await http.get(f"/v1/applications/{aid}", headers=auth())).json()
    assert view["status"] == "decided"  # a complaint by itself does not move the status
    assert view["decision_notice"] == "delivered"
    assert [(n["notification_id"], n["kind"], n["channel"], n["state"]) for n in view["notifications"]] == [
        ("n-1", "decision_made", "email", "DELIVERED")
    ]
    [complaint] = view["complaints"]
    assert complaint["complaint_id"] == "c-1" and complaint["review_due_on"] == due.isoformat()
    assert complaint["outcome"] == "upheld" and complaint["resolved_at"] is not None
    assert view["result_collection"] == "collected"
    assert [h["event_type"] for h in view["history"]][-3:] == [
        "notification.state_changed",
        "complaint.resolved",
        "notification.result_collected",
    ]


async def test_a_decision_notice_that_failed_on_every_channel_is_not_delivered(
    http: httpx.AsyncClient, old_app: FastAPI, pool: asyncpg.Pool, intake_schema: str
) -> None:
    service = old_app.state.intake.deps.service
    aid = await _submit(http)
    t = PAST + timedelta(days=2)
    await service.handle(
        _step(aid, "decision_made", t, "decision.made", outcome="approved", decided_at=t), WORKER
    )
    for nid, channel, state in (("n-1", "email", "NOT_DELIVERED"), ("n-2", "sms", "DELIVERY_STOPPED")):
        step = _step(
            aid, "notification_state_changed", t, "notification.state_changed", notification_id=nid,
            notification_kind="decision_made", notification_channel=channel, delivery_state=state,
        )  # fmt: skip
        await service.handle(step, WORKER)
    await _caught_up(pool, intake_schema)
    view = (await http.get(f"/v1/applications/{aid}", headers=auth())).json()
    assert view["decision_notice"] == "not_delivered"
    assert {n["state"] for n in view["notifications"]} == {"NOT_DELIVERED", "DELIVERY_STOPPED"}


async def test_the_decision_notice_speaks_of_the_decision_in_force_and_a_pickup_list_is_not_a_delivery(
    http: httpx.AsyncClient, old_app: FastAPI, pool: asyncpg.Pool, intake_schema: str
) -> None:
    service = old_app.state.intake.deps.service
    aid = await _submit(http)
    t = PAST + timedelta(days=2)

    def notice(nid: str, trigger: str, channel: str, state: str, minutes: int) -> RecordCaseProgress:
        return _step(
            aid, "notification_state_changed", t + timedelta(minutes=minutes), "notification.state_changed",
            notification_id=nid, trigger_event_id=trigger, notification_kind="decision_made",
            notification_channel=channel, delivery_state=state,
        )  # fmt: skip

    first = _step(aid, "decision_made", t, "decision.made", outcome="refused", decided_at=t)
    await service.handle(first, WORKER)
    await service.handle(notice("n-1", first.progress.source_event_id, "pickup", "DELIVERED", 1), WORKER)
    await _caught_up(pool, intake_schema)
    view = (await http.get(f"/v1/applications/{aid}", headers=auth())).json()
    assert view["decision_notice"] == "pickup_only"  # on the office's list: nobody was told yet
    await service.handle(notice("n-2", first.progress.source_event_id, "email", "DELIVERED", 2), WORKER)
    second_at = t + timedelta(days=5)
    second = _step(aid, "decision_made", second_at, "decision.made", outcome="approved", decided_at=second_at)
    for command in (_step(aid, "reopened", t + timedelta(days=3), "decision.application_reopened"), second):
        await service.handle(command, WORKER)
    await service.handle(
        notice("n-3", second.progress.source_event_id, "email", "ON_DELIVERY", 60 * 24 * 5 + 1), WORKER
    )
    await _caught_up(pool, intake_schema)
    view = (await http.get(f"/v1/applications/{aid}", headers=auth())).json()
    assert view["decision_notice"] == "sent"  # the earlier decision's delivered e-mail does not count
    await service.handle(
        notice("n-3", second.progress.source_event_id, "email", "NOT_DELIVERED", 60 * 24 * 5 + 2), WORKER
    )
    await _caught_up(pool, intake_schema)
    view = (await http.get(f"/v1/applications/{aid}", headers=auth())).json()
    assert view["decision_notice"] == "not_delivered"
