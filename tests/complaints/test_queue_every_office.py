"""The complaint queue of every reviewing office at once (`every_office=true`): for auditors and
administrators, whose own office reviews nothing; refused to an office-bound role."""

from __future__ import annotations

import asyncpg
import httpx

from shared.auth.roles import Role
from tests.complaints.conftest import REVIEWING, auth, complaint_body, decided_application


async def test_cross_office_roles_read_every_offices_queue(
    pool: asyncpg.Pool, complaints_schema: str, client: httpx.AsyncClient
) -> None:
    app = await decided_application(pool, complaints_schema)
    talon = await client.post("/v1/complaints", json=complaint_body(app.application_id), headers=auth())
    assert talon.status_code == 201, talon.text
    complaint_id = talon.json()["complaint_id"]

    auditor = auth(Role.AUDITOR, "national-compliance")
    own = await client.get("/v1/complaints/queue", headers=auditor)
    assert own.status_code == 200 and own.json()["items"] == []  # nothing is routed to its own office
    every = await client.get("/v1/complaints/queue", params={"every_office": "true"}, headers=auditor)
    assert every.status_code == 200, every.text
    items = every.json()["items"]
    assert [c["complaint_id"] for c in items] == [complaint_id]
    assert items[0]["reviewing_office"] == REVIEWING
    assert "complainant" not in items[0]  # the queue carries no personal data

    refused = await client.get(
        "/v1/complaints/queue", params={"every_office": "true"}, headers=auth(Role.REVIEWER, REVIEWING)
    )
    assert refused.status_code == 403
    assert "every office" in refused.json()["detail"]
