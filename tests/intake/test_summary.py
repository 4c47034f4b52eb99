"""`GET /v1/applications/summary`: the operations console's overview of the status projection —
counts by service and status, open / overdue / approaching per office, decided in term, latest
decisions — within the reader's scope and without personal data."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from shared.auth.roles import Role
from tests.intake.conftest import APPLICANT_IIN, DEPT, OTHER_DEPT, auth, unemployed_registration, wait_for


async def _submit(client: httpx.AsyncClient, office: str) -> str:
    answer = await client.post(
        "/v1/applications", json=unemployed_registration(office_id=office), headers=auth(office=office)
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["application_id"])


async def test_summary_counts_deadlines_and_decisions_within_scope(
    client: httpx.AsyncClient, pool: asyncpg.Pool, intake_schema: str
) -> None:
    overdue, approaching, decided, late, other = [await _submit(client, DEPT) for _ in range(4)] + [
        await _submit(client, OTHER_DEPT)
    ]

    async def projected() -> bool:
        page = await client.get("/v1/applications", headers=auth(Role.AUDITOR, DEPT))
        return len(page.json()["items"]) == 5

    await wait_for(projected, timeout=10)
    table = f"{intake_schema}.applications"
    async with pool.acquire() as conn:
        await conn.execute(
            f"UPDATE {table} SET due_at = now() - interval '1 day' WHERE application_id = $1", overdue
        )
        await conn.execute(
            f"UPDATE {table} SET due_at = now() + interval '1 day' WHERE application_id = $1", approaching
        )
        for app, due in ((decided, "now() + interval '5 days'"), (late, "now() - interval '5 days'")):
            await conn.execute(
                f"UPDATE {table} SET status = 'decided', is_open = false, decision_outcome = 'approved',"
                f" decided_at = now(), due_at = {due} WHERE application_id = $1",
                app,
            )  # fmt: skip

    head = await client.get("/v1/applications/summary", headers=auth(Role.HEAD, DEPT))
    assert head.status_code == 200, head.text
    body: dict[str, Any] = head.json()
    assert body["approaching_days"] == 3
    counts = {(r["service_id"], r["status"]): r["count"] for r in body["by_status"]}
    assert counts == {("unemployed_registration", "submitted"): 2, ("unemployed_registration", "decided"): 2}
    assert body["offices"] == [{"office_id": DEPT, "open": 2, "overdue": 1, "approaching": 1}]
    assert body["decided_in_term"] == [
        {"service_id": "unemployed_registration", "decided": 2, "decided_in_term": 1}
    ]
    assert {d["application_id"] for d in body["recent_decisions"]} == {decided, late}
    assert {d["outcome"] for d in body["recent_decisions"]} == {"approved"}
    assert APPLICANT_IIN not in head.text and "Нұрланова" not in head.text

    auditor = (await client.get("/v1/applications/summary", headers=auth(Role.AUDITOR, DEPT))).json()
    assert {o["office_id"] for o in auditor["offices"]} == {DEPT, OTHER_DEPT}
    one = await client.get(
        "/v1/applications/summary",
        params={"office": OTHER_DEPT, "recent": 0},
        headers=auth(Role.AUDITOR, DEPT),
    )
    assert [o["office_id"] for o in one.json()["offices"]] == [OTHER_DEPT]
    assert one.json()["recent_decisions"] == []
    assert other not in one.text  # ids appear only among the latest decisions


async def test_summary_refuses_other_offices_bad_input_and_no_token(client: httpx.AsyncClient) -> None:
    foreign = await client.get(
        "/v1/applications/summary", params={"office": OTHER_DEPT}, headers=auth(Role.HEAD)
    )
    assert foreign.status_code == 403
    bad = await client.get(
        "/v1/applications/summary", params={"approaching_days": -1}, headers=auth(Role.HEAD)
    )
    assert bad.status_code == 422
    assert "approaching_days" in bad.text
    assert (await client.get("/v1/applications/summary")).status_code == 401
