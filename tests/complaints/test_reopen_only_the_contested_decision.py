"""An upheld complaint sends back only the decision it contested: the decision in force when it
was registered (`contested_decision_at`). Once that decision was reopened (by another complaint)
or replaced, upholding it does not reopen the case again, and the answer says why."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import httpx

from services.complaints.adapters.repository import decode_stored
from services.complaints.domain.complaint import stream_id
from shared.auth.roles import Role
from shared.contracts.decisions import ApplicationReopened
from shared.eventstore import EventStore
from tests.complaints.conftest import (
    REGISTERED_AT,
    REVIEWING,
    Clock,
    auth,
    complaint_body,
    decided,
    seed,
    submitted,
)

REVIEWER = auth(Role.REVIEWER, REVIEWING)


async def test_an_upheld_complaint_reopens_only_the_decision_in_force_that_it_contested(
    pool: asyncpg.Pool, complaints_schema: str, client: httpx.AsyncClient, clock: Clock
) -> None:
    app = submitted()
    first = decided(app, REGISTERED_AT - timedelta(days=5))
    await seed(pool, complaints_schema, app, first)

    async def file() -> str:
        talon = await client.post("/v1/complaints", json=complaint_body(app.application_id), headers=auth())
        assert talon.status_code == 201, talon.text
        return str(talon.json()["complaint_id"])

    async def uphold(complaint: str) -> dict[str, object]:
        answer = await client.post(
            f"/v1/complaints/{complaint}/resolution",
            json={"outcome": "upheld", "reasoning": "the income was counted twice"},
            headers=REVIEWER,
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, object] = answer.json()
        return body

    c1, c2, c3 = await file(), await file(), await file()
    assert (await uphold(c1))["reopen_case"] is True
    reopened = ApplicationReopened(
        application_id=app.application_id, complaint_id=c1, reason="upheld complaint",
        reopened_by="decision-service", reopened_at=REGISTERED_AT + timedelta(days=1), new_due_at=None,
    )  # fmt: skip
    await seed(pool, complaints_schema, reopened)
    # Reopened, not decided again yet: the contested decision is no longer in force.
    waiting = await uphold(c2)
    assert waiting["reopen_case"] is False and "no longer in force" in str(waiting["reopen_withheld"])

    second = decided(app, REGISTERED_AT + timedelta(days=3), outcome="approved")
    await seed(pool, complaints_schema, second)
    late = await uphold(c3)
    assert late["reopen_case"] is False and "no longer in force" in str(late["reopen_withheld"])

    clock.advance(days=4)
    c4 = await file()  # against the new decision
    assert (await uphold(c4))["reopen_case"] is True

    async with pool.acquire() as conn:
        store = EventStore(complaints_schema)
        streams = {c: [decode_stored(e) for e in await store.load(conn, stream_id(c))] for c in (c1, c3, c4)}
    assert streams[c1][0].contested_decision_at == first.decided_at
    assert streams[c3][0].contested_decision_at == first.decided_at
    assert streams[c3][-1].contested_decision_at == first.decided_at and not streams[c3][-1].reopen_case
    assert streams[c4][0].contested_decision_at == second.decided_at


async def test_an_older_decision_delivered_late_does_not_replace_the_one_in_force(
    pool: asyncpg.Pool, complaints_schema: str, client: httpx.AsyncClient
) -> None:
    app = submitted()
    older, newer = (
        decided(app, REGISTERED_AT - timedelta(days=9)),
        decided(app, REGISTERED_AT - timedelta(days=2)),
    )
    await seed(pool, complaints_schema, app, newer, older)
    talon = await client.post("/v1/complaints", json=complaint_body(app.application_id), headers=auth())
    async with pool.acquire() as conn:
        [registered] = [
            decode_stored(e)
            for e in await EventStore(complaints_schema).load(conn, stream_id(talon.json()["complaint_id"]))
        ]
    assert registered.contested_decision_at == newer.decided_at
