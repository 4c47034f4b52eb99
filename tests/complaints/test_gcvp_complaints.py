"""A complaint about a ГЦВП (pension centre) decision on an application received at a ЦОН goes to
the ГЦВП branch of the region (004: every ГЦВП service's complaints.to names the head of the
branch), whether the complainant names the receiving ЦОН or the branch."""

from __future__ import annotations

import asyncpg
import httpx

from shared.auth.roles import Role
from tests.complaints.conftest import auth, complaint_body, decided_application

TSON = "karaganda-tson-01"
BRANCH = "karaganda-gcvp-01"


async def test_a_gcvp_decision_received_at_a_tson_goes_to_the_branch_named_either_way(
    pool: asyncpg.Pool, complaints_schema: str, client: httpx.AsyncClient
) -> None:
    pension = await decided_application(
        pool, complaints_schema, service_id="basic_state_pension_payment",
        edition_id="kz_std_393_as_restated_2012", office_id=TSON, channel="tson",
    )  # fmt: skip
    for named in (TSON, BRANCH):
        talon = await client.post(
            "/v1/complaints",
            json=complaint_body(pension.application_id, office_id=named),
            headers=auth(Role.TSON, TSON),
        )
        assert talon.status_code == 201, (named, talon.text)
        assert (talon.json()["reviewing_body"], talon.json()["reviewing_office"]) == ("gcvp_head", BRANCH)
    answered = await client.post(
        f"/v1/complaints/{talon.json()['complaint_id']}/resolution",
        json={"outcome": "rejected", "reasoning": "the record of service was complete"},
        headers=auth(Role.REVIEWER, BRANCH),
    )
    assert answered.status_code == 200, answered.text
    elsewhere = await client.post(
        "/v1/complaints",
        json=complaint_body(pension.application_id, office_id="karaganda-dept-01"),
        headers=auth(Role.TSON, TSON),
    )
    assert elsewhere.status_code == 422 and elsewhere.json()["errors"][0]["field"] == "office_id"
