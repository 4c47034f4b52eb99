"""The complaints API on a real PostgreSQL: the talon, idempotency, clear refusals, access by
role and office, the audited read of the complainant, lists and the OpenAPI document."""

from __future__ import annotations

import asyncpg
import httpx

from services.complaints.adapters.projection import rebuild
from shared.audit import AuditLog
from shared.audit.keys import default_audit_key
from shared.audit.pseudonyms import iin_pseudonym
from shared.auth.roles import Role
from tests.complaints.conftest import (
    DEPT,
    OTHER_REVIEWING,
    REVIEWING,
    SERVICE,
    Clock,
    auth,
    complaint_body,
    decided_application,
    refused_at_intake,
    seed,
    submitted,
)


async def test_a_complaint_about_a_decision_gets_a_talon_and_is_idempotent(
    pool: asyncpg.Pool, complaints_schema: str, client: httpx.AsyncClient
) -> None:
    app = await decided_application(pool, complaints_schema)
    body = complaint_body(app.application_id)
    first = await client.post("/v1/complaints", json=body, headers=auth())
    assert first.status_code == 201, first.text
    talon = first.json()
    assert talon["registration_number"] == f"{DEPT}-2025-C000001"
    assert talon["registered_by"] == f"clerk.officer@{DEPT}"
    assert talon["registered_at_office"] == DEPT
    assert talon["registered_at"].startswith("2025-03-03T05:00:00")
    # local_social_assistance, Karaganda 2008 standard: the Басқарма (000 L11641-11669).
    assert (talon["reviewing_body"], talon["reviewing_office"]) == ("oblast_department", REVIEWING)
    # 15 calendar days (DEFAULT value) from Monday 3 March 2025: Tuesday 18 March.
    assert talon["review_due_on"] == "2025-03-18"
    assert "complaint_review_term = 15 calendar_days" in talon["review_term_basis"]
    assert "EXAMPLE/DEFAULT" in talon["review_term_basis"]
    assert "000 L1502-1518" in talon["routing_basis"]

    again = await client.post("/v1/complaints", json=body, headers=auth())
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == talon
    other = await client.post("/v1/complaints", json={**body, "text": "another"}, headers=auth())
    assert other.status_code == 409
    second = await client.post("/v1/complaints", json=complaint_body(app.application_id), headers=auth())
    assert second.json()["registration_number"] == f"{DEPT}-2025-C000002"


async def test_complaints_that_cannot_be_registered_are_refused_with_the_reason(
    pool: asyncpg.Pool, complaints_schema: str, client: httpx.AsyncClient
) -> None:
    undecided = submitted()
    refusal = refused_at_intake()
    akmola = submitted(
        service_id="targeted_social_assistance", edition_id="akmola_2012_regulation",
        office_id="akmola-dept-01", region="akmola",
    )  # fmt: skip
    await seed(pool, complaints_schema, undecided, refusal, akmola)

    async def refused(body: dict[str, object], office: str = DEPT) -> tuple[str, str]:
        answer = await client.post("/v1/complaints", json=body, headers=auth(office=office))
        assert answer.status_code == 422, answer.text
        problem = answer.json()
        assert problem["type"].endswith("invalid-input")
        return problem["errors"][0]["field"], problem["errors"][0]["reason"]

    assert await refused(complaint_body("no-such-application")) == (
        "application_id", "no such application is known to the complaints service",
    )  # fmt: skip
    field, reason = await refused(complaint_body(undecided.application_id))
    assert field == "application_id" and "no decision has been made" in reason
    field, reason = await refused(complaint_body(None))
    assert field == "application_id" and "must name the application" in reason
    field, reason = await refused(complaint_body(undecided.application_id, subject="intake_refusal"))
    assert "not refused at intake" in reason
    field, reason = await refused(
        complaint_body(akmola.application_id, subject="official_action", office_id="akmola-dept-01"),
        office="akmola-dept-01",
    )
    assert field == "subject" and "no complaint procedure" in reason
    refused_ok = await client.post(
        "/v1/complaints",
        json=complaint_body(refusal.application_id, subject="intake_refusal"),
        headers=auth(),
    )
    assert refused_ok.status_code == 201
    missing = await client.post("/v1/complaints", json={"subject": "decision"}, headers=auth())
    assert missing.status_code == 422
    assert {"body.idempotency_key", "body.complainant"} <= {e["field"] for e in missing.json()["errors"]}


async def test_only_the_routed_offices_reviewer_answers_and_reads_of_the_complainant_are_audited(
    pool: asyncpg.Pool, complaints_schema: str, client: httpx.AsyncClient
) -> None:
    app = await decided_application(pool, complaints_schema)
    talon = (
        await client.post("/v1/complaints", json=complaint_body(app.application_id), headers=auth())
    ).json()
    complaint = talon["complaint_id"]
    answer = {"outcome": "upheld", "reasoning": "the income was counted twice"}

    elsewhere = await client.post(
        f"/v1/complaints/{complaint}/resolution", json=answer, headers=auth(Role.REVIEWER, OTHER_REVIEWING)
    )
    assert elsewhere.status_code == 403
    clerk = await client.post(f"/v1/complaints/{complaint}/resolution", json=answer, headers=auth())
    assert clerk.status_code == 403
    other_registrar = await client.post(
        "/v1/complaints", json=complaint_body(app.application_id, received_at_office=DEPT),
        headers=auth(office="akmola-dept-01"),
    )  # fmt: skip
    assert other_registrar.status_code == 403

    resolved = await client.post(
        f"/v1/complaints/{complaint}/resolution", json=answer, headers=auth(Role.REVIEWER, REVIEWING)
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["outcome"] == "upheld"
    twice = await client.post(
        f"/v1/complaints/{complaint}/resolution", json=answer, headers=auth(Role.REVIEWER, REVIEWING)
    )
    assert twice.status_code == 409

    hidden = await client.get(f"/v1/complaints/{complaint}", headers=auth(Role.CLERK, "akmola-dept-01"))
    assert hidden.status_code == 404
    view = await client.get(f"/v1/complaints/{complaint}", headers=auth(Role.AUDITOR, "hq"))
    assert view.status_code == 200
    data = view.json()
    assert data["complainant"]["full_name"] == "Айгүл Нұрланова"
    assert (data["status"], data["outcome"], data["reopen_case"], data["on_time"]) == (
        "resolved", "upheld", True, True,
    )  # fmt: skip
    async with pool.acquire() as conn:
        records = [r.entry async for r in AuditLog(complaints_schema).records(conn)]
    reads = [r for r in records if r.action == "personal_data.read"]
    assert [(r.actor, r.subject) for r in reads] == [("auditor.officer@hq", f"complaint/{complaint}")]
    # whose data was read, by the complainant ИИН's pseudonym (`qyzmet audit export --iin`), never the ИИН
    complainant_iin = complaint_body(app.application_id)["complainant"]["iin"]
    assert reads[0].details["person_pseudonym"] == iin_pseudonym(default_audit_key(), complainant_iin)
    assert "Айгүл" not in str([r.details for r in records])
    assert complainant_iin not in str([r.details for r in records])

    listed = await client.get(f"/v1/complaints?application={app.application_id}", headers=auth())
    assert [c["complaint_id"] for c in listed.json()["items"]] == [complaint]
    assert "complainant" not in listed.json()["items"][0]
    assert (await client.get(f"/v1/complaints?application={app.application_id}",
                             headers=auth(office="akmola-dept-01"))).json()["items"] == []  # fmt: skip


async def test_the_queue_of_a_reviewing_office_lists_its_open_complaints_nearest_due_first(
    pool: asyncpg.Pool, complaints_schema: str, client: httpx.AsyncClient, clock: Clock
) -> None:
    app = await decided_application(pool, complaints_schema)
    ids = []
    for _ in range(3):
        talon = await client.post("/v1/complaints", json=complaint_body(app.application_id), headers=auth())
        ids.append(talon.json()["complaint_id"])
        clock.advance(days=1)
    reviewer = auth(Role.REVIEWER, REVIEWING)
    await client.post(
        f"/v1/complaints/{ids[0]}/resolution",
        json={"outcome": "rejected", "reasoning": "r"},
        headers=reviewer,
    )
    # The second, extended to 30 days, is now due after the third (registered a day later).
    extended = await client.post(
        f"/v1/complaints/{ids[1]}/extension", json={"reason": "an inspection"}, headers=reviewer
    )
    assert extended.status_code == 200, extended.text
    queue = await client.get("/v1/complaints/queue", headers=reviewer)
    items = queue.json()["items"]
    assert [c["complaint_id"] for c in items] == [ids[2], ids[1]]
    assert items[0]["review_due_on"] < items[1]["review_due_on"]
    everything = await client.get("/v1/complaints/queue?include_resolved=true", headers=reviewer)
    assert [c["complaint_id"] for c in everything.json()["items"]] == [ids[0], ids[2], ids[1]]
    other = await client.get(
        f"/v1/complaints/queue?office={REVIEWING}", headers=auth(Role.REVIEWER, OTHER_REVIEWING)
    )
    assert other.status_code == 403


async def test_openapi_documents_every_answer(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    paths = document["paths"]
    post = paths["/v1/complaints"]["post"]
    assert {"201", "401", "403", "409", "422", "503"} <= set(post["responses"])
    assert post["x-roles"] == ["clerk", "head", "reviewer", "specialist", "tson"]
    resolution = paths["/v1/complaints/{complaint_id}/resolution"]["post"]
    assert resolution["x-roles"] == ["reviewer"]
    assert {"404", "409"} <= set(resolution["responses"])
    assert "/v1/complaints/figures" in paths and "/v1/complaints/queue" in paths


async def test_a_complaint_about_an_official_names_the_office_and_is_routed_by_its_kind(
    pool: asyncpg.Pool, complaints_schema: str, client: httpx.AsyncClient
) -> None:
    farm = submitted(
        service_id="personal_subsidiary_farm_certificate", edition_id="kz_std_2011",
        office_id="karaganda-tson-01", channel="tson",
    )  # fmt: skip
    await seed(pool, complaints_schema, farm)
    about_tson = complaint_body(
        None, subject="official_action", office_id="karaganda-tson-01", officer="operator 7",
        service_id="personal_subsidiary_farm_certificate", received_at_office="karaganda-tson-01",
    )  # fmt: skip
    talon = await client.post("/v1/complaints", json=about_tson, headers=auth(Role.TSON, "karaganda-tson-01"))
    assert talon.status_code == 201, talon.text
    # 002 L175-181: improper service at a ЦОН goes to its director.
    assert (talon.json()["reviewing_body"], talon.json()["reviewing_office"]) == (
        "tson_head",
        "karaganda-tson-01",
    )
    about_application = await client.post(
        "/v1/complaints",
        json=complaint_body(farm.application_id, subject="official_inaction", office_id="karaganda-tson-01"),
        headers=auth(),
    )
    assert about_application.json()["reviewing_body"] == "tson_head"

    unknown_office = complaint_body(
        None, subject="official_action", office_id="nowhere-01", service_id=SERVICE
    )
    refused = await client.post("/v1/complaints", json=unknown_office, headers=auth())
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "office_id"
    no_service = complaint_body(None, subject="official_action", office_id="karaganda-tson-01")
    refused = await client.post("/v1/complaints", json=no_service, headers=auth())
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "service_id"


async def test_the_projection_is_rebuilt_from_the_event_store(
    pool: asyncpg.Pool, complaints_schema: str, client: httpx.AsyncClient
) -> None:
    app = await decided_application(pool, complaints_schema)
    talon = (
        await client.post("/v1/complaints", json=complaint_body(app.application_id), headers=auth())
    ).json()
    await client.post(
        f"/v1/complaints/{talon['complaint_id']}/escalations",
        json={"to": "court", "body": "court"},
        headers=auth(),
    )
    await client.post(
        f"/v1/complaints/{talon['complaint_id']}/resolution",
        json={"outcome": "rejected", "reasoning": "no grounds"},
        headers=auth(Role.REVIEWER, REVIEWING),
    )
    async with pool.acquire() as conn:
        before = [dict(r) for r in await conn.fetch(f"SELECT * FROM {complaints_schema}.complaints")]
    assert await rebuild(pool, complaints_schema) == 3
    async with pool.acquire() as conn:
        after = [dict(r) for r in await conn.fetch(f"SELECT * FROM {complaints_schema}.complaints")]
    assert [{k: v for k, v in r.items() if k != "updated_at"} for r in after] == [
        {k: v for k, v in r.items() if k != "updated_at"} for r in before
    ]
