"""The complaint's text and the reviewer's reasoning are personal data: kept, returned only by
the audited one-complaint read, and only to the registering and the reviewing office (and to
auditors and administrators); the contested office sees the complaint in the lists, without
them. A reviewer named as the official complained about may not decide the complaint."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from shared.auth.roles import Role
from tests.complaints.conftest import (
    REVIEWING,
    auth,
    complaint_body,
    decided_application,
    seed,
    submitted,
)

TSON = "karaganda-tson-01"
TEXT = "Шешіммен келіспеймін: табыс екі рет есептелген."
REASONING = "Табыс екі рет есептелген; шешім қайта қаралады."


async def test_the_text_and_the_reasoning_are_kept_and_read_only_in_the_audited_read(
    pool: asyncpg.Pool, complaints_schema: str, client: httpx.AsyncClient
) -> None:
    app = await decided_application(pool, complaints_schema)
    talon = await client.post(
        "/v1/complaints", json=complaint_body(app.application_id, text=TEXT), headers=auth()
    )
    assert talon.status_code == 201, talon.text
    complaint = talon.json()["complaint_id"]
    assert "text" not in talon.json()
    resolved = await client.post(
        f"/v1/complaints/{complaint}/resolution",
        json={"outcome": "upheld", "reasoning": REASONING},
        headers=auth(Role.REVIEWER, REVIEWING),
    )
    assert resolved.status_code == 200, resolved.text

    one = (await client.get(f"/v1/complaints/{complaint}", headers=auth(Role.REVIEWER, REVIEWING))).json()
    assert (one["text"], one["reasoning"]) == (TEXT, REASONING)
    listed: list[dict[str, Any]] = (
        await client.get(f"/v1/complaints?application={app.application_id}", headers=auth())
    ).json()["items"]
    queue = (
        await client.get("/v1/complaints/queue?include_resolved=true", headers=auth(Role.REVIEWER, REVIEWING))
    ).json()["items"]
    for item in (*listed, *queue):
        assert "text" not in item and "reasoning" not in item
        assert TEXT not in str(item) and REASONING not in str(item)
    async with pool.acquire() as conn:
        rows = [dict(r) for r in await conn.fetch(f"SELECT * FROM {complaints_schema}.complaints")]
    assert REASONING not in str(rows) and TEXT not in str(rows)  # the projection holds no personal data


async def test_the_contested_office_and_the_named_officer_do_not_read_the_complainant(
    pool: asyncpg.Pool, complaints_schema: str, client: httpx.AsyncClient
) -> None:
    farm = submitted(
        service_id="personal_subsidiary_farm_certificate", edition_id="kz_std_2011",
        office_id=TSON, channel="tson",
    )  # fmt: skip
    await seed(pool, complaints_schema, farm)
    officer = f"operator.7@{TSON}"
    # Registered at the department about the ЦОН's operator: routed to the ЦОН director (002 L175-181).
    talon = await client.post(
        "/v1/complaints",
        json=complaint_body(farm.application_id, subject="official_action", office_id=TSON, officer=officer),
        headers=auth(),
    )
    assert talon.status_code == 201, talon.text
    complaint = talon.json()["complaint_id"]
    assert talon.json()["reviewing_office"] == TSON  # the ЦОН is contested and reviews

    contested_reader = await client.get(f"/v1/complaints/{complaint}", headers=auth(Role.TSON, TSON))
    assert contested_reader.status_code == 200  # the ЦОН reviews it: it may read it
    named = await client.get(f"/v1/complaints/{complaint}", headers=auth(Role.TSON, TSON, subject=officer))
    assert named.status_code == 403 and "names you" in named.json()["detail"]
    registrar = await client.get(f"/v1/complaints/{complaint}", headers=auth())
    assert registrar.status_code == 200 and registrar.json()["complainant"]["full_name"]

    reviewer_named = f"reviewer.officer@{TSON}"
    about_reviewer = await client.post(
        "/v1/complaints",
        json=complaint_body(
            farm.application_id, subject="official_action", office_id=TSON, officer=reviewer_named
        ),
        headers=auth(),
    )
    decided = await client.post(
        f"/v1/complaints/{about_reviewer.json()['complaint_id']}/resolution",
        json={"outcome": "rejected", "reasoning": "I did nothing wrong"},
        headers=auth(Role.REVIEWER, TSON),
    )
    assert decided.status_code == 403 and "names you" in decided.json()["detail"]


async def test_an_office_that_is_only_contested_sees_the_complaint_without_personal_data(
    pool: asyncpg.Pool, complaints_schema: str, client: httpx.AsyncClient
) -> None:
    app = await decided_application(pool, complaints_schema)  # at karaganda-dept-01
    # Registered at the ЦОН about the department's decision; routed to the oblast department.
    talon = await client.post(
        "/v1/complaints",
        json=complaint_body(app.application_id, received_at_office=TSON),
        headers=auth(Role.TSON, TSON),
    )
    assert talon.status_code == 201, talon.text
    complaint = talon.json()["complaint_id"]
    contested = await client.get(f"/v1/complaints/{complaint}", headers=auth(Role.HEAD))
    assert contested.status_code == 404
    listed = (await client.get(f"/v1/complaints?application={app.application_id}", headers=auth())).json()
    assert [c["complaint_id"] for c in listed["items"]] == [complaint]
    for reader in (auth(Role.TSON, TSON), auth(Role.REVIEWER, REVIEWING), auth(Role.AUDITOR, "hq")):
        seen = await client.get(f"/v1/complaints/{complaint}", headers=reader)
        assert seen.status_code == 200 and seen.json()["text"]
