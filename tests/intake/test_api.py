"""Intake HTTP API on real PostgreSQL: talons, idempotency, refusals, access, hostile input."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from datetime import date
from typing import Any

import asyncpg
import httpx
import pytest

from services.intake.adapters.catalog import CatalogAdapter
from services.intake.adapters.offices import OfficeBook
from services.intake.domain.identity import make_iin
from services.intake.entrypoints.api import create_app
from shared.audit.keys import default_audit_key
from shared.audit.pseudonyms import iin_pseudonym
from shared.auth.roles import Role
from shared.auth.tokens import issue_token
from tests.intake.conftest import (
    APPLICANT_IIN,
    DEPT,
    OTHER_DEPT,
    SECRET,
    TSON,
    auth,
    carer_allowance,
    unemployed_registration,
    wait_for,
)

PROBLEM = "application/problem+json"


OWN_RECORDS = "action NOT LIKE 'auth.%' AND action <> 'request.failed'"
"""The service's own audit records, not those its API adds (sign-ins, denials, failed requests)."""


async def _commands_audited(pool: asyncpg.Pool, schema: str) -> int:
    """Audit records of actions (not the sign-ins and denials the API records as well)."""
    async with pool.acquire() as conn:
        found: int = await conn.fetchval(f"SELECT count(*) FROM {schema}.audit_log WHERE {OWN_RECORDS}")
    return found


async def _count(pool: asyncpg.Pool, schema: str, table: str) -> int:
    async with pool.acquire() as conn:
        total: int = await conn.fetchval(f"SELECT count(*) FROM {schema}.{table}")
        return total


async def _status(client: httpx.AsyncClient, app_id: str, expected: str, **headers: Any) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        r = await client.get(f"/v1/applications/{app_id}", headers=headers or auth())
        if r.status_code == 200 and r.json()["status"] == expected:
            body: dict[str, Any] = r.json()
            return body
        return None

    result: dict[str, Any] = await wait_for(check, timeout=2.0)
    return result


def _codes(response: httpx.Response) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for error in response.json()["errors"]:
        out.setdefault(error["code"], set()).add(error.get("document_id") or error["field"])
    return out


async def test_submit_issues_a_talon_and_status_shows_it_within_2_s(
    client: httpx.AsyncClient, pool: asyncpg.Pool, intake_schema: str
) -> None:
    body = unemployed_registration()
    r = await client.post("/v1/applications", json=body, headers=auth(subject="aigerim.clerk"))
    assert r.status_code == 201, r.text
    talon = r.json()
    assert re.fullmatch(rf"{DEPT}-\d{{4}}-\d{{6}}", talon["registration_number"])
    assert talon["received_by"] == "aigerim.clerk"
    assert talon["edition_id"] == "krg_2008_standard"
    assert talon["due_at"] is not None and talon["due_at"] > talon["received_at"]
    assert {d["document_id"] for d in talon["documents"]} == {d["document_id"] for d in body["documents"]}
    assert all(d["name_kk"] and d["name_en"] for d in talon["documents"])

    view = await _status(client, talon["application_id"], "submitted")
    assert view["service_id"] == "unemployed_registration"
    assert view["office_id"] == DEPT
    assert view["due_at"] == talon["due_at"]
    assert view["overdue"] is False
    assert [h["event_type"] for h in view["history"]] == ["application.submitted"]

    async with pool.acquire() as conn:
        audit = await conn.fetch(
            f"SELECT actor, action, subject, details FROM {intake_schema}.audit_log WHERE {OWN_RECORDS}"
        )
        event = await conn.fetchrow(f"SELECT data, metadata FROM {intake_schema}.events")
    assert [(a["actor"], a["action"]) for a in audit] == [("aigerim.clerk", "application.submit")]
    assert APPLICANT_IIN not in json.dumps([dict(a) for a in audit], default=str)
    assert event["data"]["applicant"]["iin"] == APPLICANT_IIN
    assert event["metadata"]["actor"] == "aigerim.clerk"


async def test_same_key_twice_returns_the_same_talon_and_writes_nothing(
    client: httpx.AsyncClient, pool: asyncpg.Pool, intake_schema: str
) -> None:
    body = unemployed_registration()
    first = await client.post("/v1/applications", json=body, headers=auth())
    events, audits = (
        await _count(pool, intake_schema, "events"),
        await _commands_audited(pool, intake_schema),
    )
    again = await client.post("/v1/applications", json=body, headers=auth())
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await _count(pool, intake_schema, "events") == events == 1
    assert await _commands_audited(pool, intake_schema) == audits == 1


async def test_concurrent_duplicates_create_one_application(
    client: httpx.AsyncClient, pool: asyncpg.Pool, intake_schema: str
) -> None:
    body = unemployed_registration()
    responses = await asyncio.gather(
        *[client.post("/v1/applications", json=body, headers=auth()) for _ in range(8)]
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["application_id"] for r in responses}) == 1
    assert await _count(pool, intake_schema, "events") == 1


async def test_key_reused_with_a_different_body_is_409(
    client: httpx.AsyncClient, pool: asyncpg.Pool, intake_schema: str
) -> None:
    body = unemployed_registration()
    assert (await client.post("/v1/applications", json=body, headers=auth())).status_code == 201
    changed = {
        **body,
        "documents": [*body["documents"][:-1], {"document_id": "income_statement", "form": "copy"}],
    }
    r = await client.post("/v1/applications", json=changed, headers=auth())
    assert r.status_code == 409
    assert r.headers["content-type"].startswith(PROBLEM)
    assert await _count(pool, intake_schema, "events") == 1


async def test_missing_documents_are_listed_in_kk_and_en_and_recorded(
    client: httpx.AsyncClient, pool: asyncpg.Pool, intake_schema: str
) -> None:
    body = unemployed_registration(documents=[{"document_id": "identity_card"}])
    r = await client.post("/v1/applications", json=body, headers=auth())
    assert r.status_code == 422
    assert r.headers["content-type"].startswith(PROBLEM)
    problem = r.json()
    missing = [e for e in problem["errors"] if e["code"] == "missing_document"]
    assert {e["document_id"] for e in missing} == {
        "labour_activity_documents",
        "sic_certificate",
        "taxpayer_number",
        "income_statement",
    }
    assert all(e["name_kk"] and e["name_en"] and e["field"] == "documents" for e in missing)
    view = await _status(client, problem["application_id"], "rejected")
    assert {p["document_id"] for p in view["problems"]} >= {"sic_certificate"}
    async with pool.acquire() as conn:
        row = await conn.fetchrow(f"SELECT event_type FROM {intake_schema}.events")
        action = await conn.fetchval(
            f"SELECT details->>'outcome' FROM {intake_schema}.audit_log WHERE {OWN_RECORDS}"
        )
    assert row["event_type"] == "application.rejected_at_intake"
    assert action == "rejected"
    # the same refused request again: the same answer, nothing new written
    again = await client.post("/v1/applications", json=body, headers=auth())
    assert again.status_code == 422 and again.json()["application_id"] == problem["application_id"]
    assert await _count(pool, intake_schema, "events") == 1


async def test_foreigner_needs_a_residence_document(client: httpx.AsyncClient) -> None:
    foreigner = unemployed_registration()
    foreigner["applicant"] = {**foreigner["applicant"], "legal_status": "foreigner"}
    r = await client.post("/v1/applications", json=foreigner, headers=auth())
    assert r.status_code == 422
    assert "foreigner_residence_document" in _codes(r)["missing_document"]
    docs = [d for d in foreigner["documents"] if d["document_id"] != "identity_card"]
    docs.append({"document_id": "foreigner_residence_document", "form": "original"})
    ok = await client.post(
        "/v1/applications",
        json={**foreigner, "idempotency_key": str(uuid.uuid4()), "documents": docs},
        headers=auth(),
    )
    assert ok.status_code == 201, ok.text


async def test_representative_needs_a_power_of_attorney(client: httpx.AsyncClient) -> None:
    headers = auth(Role.TSON, TSON)
    assert (await client.post("/v1/applications", json=carer_allowance(), headers=headers)).status_code == 201
    representative = {
        "iin": make_iin(date(1960, 7, 30), 9),
        "full_name": "Бауыржан Қайратұлы",
        "power_of_attorney": {"number": "N-123", "issued_on": "2024-01-15", "notarised": True},
    }
    r = await client.post(
        "/v1/applications", json=carer_allowance(representative=representative), headers=headers
    )
    assert r.status_code == 422
    assert "power_of_attorney" in _codes(r)["missing_document"]
    body = carer_allowance(representative=representative)
    body["documents"].append({"document_id": "power_of_attorney", "form": "notarised_copy"})
    ok = await client.post("/v1/applications", json=body, headers=headers)
    assert ok.status_code == 201, ok.text
    assert ok.json()["due_at"] is not None


async def test_income_tested_service_needs_family_incomes(client: httpx.AsyncClient) -> None:
    docs = [
        {"document_id": d}
        for d in (
            "application",
            "children_birth_certificates_copy",
            "identity_document_copy",
            "residence_proof_copy",
            "family_composition",
            "income_previous_quarter",
        )
    ]
    body = unemployed_registration(service_id="child_benefit_under_18", documents=docs)
    r = await client.post("/v1/applications", json=body, headers=auth())
    assert r.status_code == 422
    assert "family_members" in _codes(r)["missing_family_members"]
    members = [
        {"full_name": "Айгүл", "relation": "self", "declared_monthly_income": "85000.00"},
        {"full_name": "Нұрлан", "relation": "child"},
    ]
    body = {**body, "idempotency_key": str(uuid.uuid4()), "family_members": members}
    r = await client.post("/v1/applications", json=body, headers=auth())
    assert r.status_code == 422
    assert _codes(r) == {"missing_declared_income": {"family_members.1.declared_monthly_income"}}
    members[1]["declared_monthly_income"] = "0"
    body = {**body, "idempotency_key": str(uuid.uuid4()), "family_members": members}
    assert (await client.post("/v1/applications", json=body, headers=auth())).status_code == 201


async def test_invalid_iin_is_refused_with_its_field_path(client: httpx.AsyncClient) -> None:
    body = unemployed_registration()
    wrong_check = APPLICANT_IIN[:11] + str((int(APPLICANT_IIN[11]) + 1) % 10)
    body["applicant"] = {**body["applicant"], "iin": wrong_check}
    r = await client.post("/v1/applications", json=body, headers=auth())
    assert r.status_code == 422
    assert _codes(r) == {"invalid_iin": {"applicant.iin"}}
    body["applicant"]["iin"] = "12345"
    body["idempotency_key"] = str(uuid.uuid4())
    r = await client.post("/v1/applications", json=body, headers=auth())
    assert r.status_code == 422 and "invalid_iin" in _codes(r)


@pytest.mark.parametrize(
    ("override", "code"),
    [
        ({"service_id": "no_such_service"}, "unknown_service"),
        ({"channel": "fax"}, "unknown_channel"),
        ({"channel": "tson"}, "channel_not_operated"),
        ({"channel": "village_akim"}, "channel_not_operated"),
    ],
)
async def test_unknown_service_or_channel_is_refused(
    client: httpx.AsyncClient, override: dict[str, str], code: str
) -> None:
    r = await client.post("/v1/applications", json=unemployed_registration(**override), headers=auth())
    assert r.status_code == 422
    assert code in _codes(r)


async def test_channel_not_offered_by_the_edition(client: httpx.AsyncClient) -> None:
    # ЦОН office, ЦОН channel, but unemployed_registration is only offered at departments
    body = unemployed_registration(channel="tson", office_id=TSON)
    r = await client.post("/v1/applications", json=body, headers=auth(Role.TSON, TSON))
    assert r.status_code == 422
    assert "channel_not_offered" in _codes(r)


async def test_unknown_office_is_refused_with_a_clear_reason(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/v1/applications",
        json=unemployed_registration(office_id="nowhere-01"),
        headers=auth(office="nowhere-01"),
    )
    assert r.status_code == 422
    assert "unknown_office" in _codes(r)
    assert "offices reference" in r.json()["errors"][0]["reason"]


async def test_access_no_token_401_other_office_404(client: httpx.AsyncClient) -> None:
    body = unemployed_registration()
    r = await client.post("/v1/applications", json=body)
    assert r.status_code == 401 and r.headers["content-type"].startswith(PROBLEM)
    r = await client.post("/v1/applications", json=body, headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401
    r = await client.post("/v1/applications", json=body, headers=auth(office=OTHER_DEPT))
    assert r.status_code == 403
    r = await client.post("/v1/applications", json=body, headers=auth(Role.AUDITOR))
    assert r.status_code == 403
    ok = await client.post("/v1/applications", json=body, headers=auth())
    app_id = ok.json()["application_id"]
    await _status(client, app_id, "submitted")
    assert (await client.get(f"/v1/applications/{app_id}")).status_code == 401
    hidden = await client.get(f"/v1/applications/{app_id}", headers=auth(office=OTHER_DEPT))
    missing = await client.get(f"/v1/applications/{uuid.uuid4()}", headers=auth(office=OTHER_DEPT))
    assert hidden.status_code == missing.status_code == 404  # not revealed to exist
    assert hidden.json()["detail"] == missing.json()["detail"]
    assert (
        await client.get(f"/v1/applications/{app_id}", headers=auth(Role.AUDITOR, OTHER_DEPT))
    ).status_code == 200
    r = await client.post(f"/v1/applications/{app_id}/withdrawal", json={}, headers=auth(office=OTHER_DEPT))
    assert r.status_code == 404
    r = await client.post(
        f"/v1/applications/{app_id}/documents",
        json={"documents": [{"document_id": "oralman_certificate"}]},
        headers=auth(office=OTHER_DEPT),
    )
    assert r.status_code == 404
    r = await client.get("/v1/applications", params={"office": DEPT}, headers=auth(office=OTHER_DEPT))
    assert r.status_code == 403
    listed = await client.get("/v1/applications", headers=auth(office=OTHER_DEPT))
    assert listed.status_code == 200 and listed.json()["items"] == []


async def test_tson_operator_sees_and_changes_only_what_it_submitted(client: httpx.AsyncClient) -> None:
    first = auth(Role.TSON, TSON, subject="operator.a")
    second = auth(Role.TSON, TSON, subject="operator.b")
    ok = await client.post("/v1/applications", json=carer_allowance(), headers=first)
    assert ok.status_code == 201, ok.text
    app_id = ok.json()["application_id"]
    await _status(client, app_id, "submitted", **first)
    assert (await client.get(f"/v1/applications/{app_id}", headers=second)).status_code == 404
    listed = await client.get("/v1/applications", headers=second)
    assert app_id not in {item["application_id"] for item in listed.json()["items"]}
    own = await client.get("/v1/applications", headers=first)
    assert app_id in {item["application_id"] for item in own.json()["items"]}
    iin = carer_allowance()["applicant"]["iin"]
    found = await client.post("/v1/applications/lookup-by-iin", json={"iin": iin}, headers=second)
    assert app_id not in {item["application_id"] for item in found.json()["items"]}
    refused = await client.post(f"/v1/applications/{app_id}/withdrawal", json={}, headers=second)
    assert refused.status_code == 404
    head = auth(Role.HEAD, TSON)  # the office's head sees every application of the office
    assert (await client.get(f"/v1/applications/{app_id}", headers=head)).status_code == 200


async def test_withdraw_and_supplement(
    client: httpx.AsyncClient, pool: asyncpg.Pool, intake_schema: str
) -> None:
    ok = await client.post("/v1/applications", json=unemployed_registration(), headers=auth())
    app_id = ok.json()["application_id"]
    r = await client.post(
        f"/v1/applications/{app_id}/documents",
        json={"documents": [{"document_id": "oralman_certificate", "form": "copy"}]},
        headers=auth(),
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2
    r = await client.post(
        f"/v1/applications/{app_id}/documents", json={"documents": [{"document_id": "nope"}]}, headers=auth()
    )
    assert r.status_code == 422
    r = await client.post(f"/v1/applications/{app_id}/withdrawal", json={"reason": "moved"}, headers=auth())
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    again = await client.post(f"/v1/applications/{app_id}/withdrawal", json={}, headers=auth())
    assert again.status_code == 409
    view = await _status(client, app_id, "withdrawn")
    assert [h["event_type"] for h in view["history"]] == [
        "application.submitted",
        "application.documents_supplemented",
        "application.withdrawn",
    ]
    assert "oralman_certificate" in view["documents"]
    missing = await client.post(f"/v1/applications/{uuid.uuid4()}/withdrawal", json={}, headers=auth())
    assert missing.status_code == 404
    async with pool.acquire() as conn:
        actions = await conn.fetch(
            f"SELECT action FROM {intake_schema}.audit_log WHERE {OWN_RECORDS} ORDER BY recorded_at"
        )
    assert [a["action"] for a in actions] == [
        "application.submit",
        "application.supplement_documents",
        "application.withdraw",
    ]


async def test_list_filters_and_cursor_pagination(client: httpx.AsyncClient) -> None:
    ids = []
    for _ in range(5):
        r = await client.post("/v1/applications", json=unemployed_registration(), headers=auth())
        ids.append(r.json()["application_id"])
    refused = await client.post(
        "/v1/applications", json=unemployed_registration(documents=[]), headers=auth()
    )
    await _status(client, refused.json()["application_id"], "rejected")
    await _status(client, ids[-1], "submitted")

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"status": "submitted", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/applications", params=params, headers=auth())).json()
        seen += [item["application_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    rejected = await client.get("/v1/applications", params={"status": "rejected"}, headers=auth())
    assert [i["application_id"] for i in rejected.json()["items"]] == [refused.json()["application_id"]]
    filtered = await client.get(
        "/v1/applications",
        params={
            "service": "unemployed_registration",
            "overdue": "false",
            "submitted_from": "2000-01-01T00:00:00Z",
        },
        headers=auth(),
    )
    assert len(filtered.json()["items"]) == 6
    future = await client.get(
        "/v1/applications", params={"submitted_from": "2999-01-01T00:00:00+05:00"}, headers=auth()
    )
    assert future.json()["items"] == []
    assert (await client.get("/v1/applications", params={"overdue": "true"}, headers=auth())).json()[
        "items"
    ] == []
    bad = await client.get("/v1/applications", params={"cursor": "garbage!"}, headers=auth())
    assert bad.status_code == 400
    everyone = await client.get("/v1/applications", headers=auth(Role.AUDITOR, OTHER_DEPT))
    assert len(everyone.json()["items"]) == 6


async def test_lookup_by_iin_is_audited_as_a_personal_data_read(
    client: httpx.AsyncClient, pool: asyncpg.Pool, intake_schema: str
) -> None:
    ok = await client.post("/v1/applications", json=unemployed_registration(), headers=auth())
    await _status(client, ok.json()["application_id"], "submitted")
    r = await client.post(
        "/v1/applications/lookup-by-iin", json={"iin": APPLICANT_IIN}, headers=auth(Role.SPECIALIST)
    )
    assert r.status_code == 200
    assert [i["application_id"] for i in r.json()["items"]] == [ok.json()["application_id"]]
    other = await client.post(
        "/v1/applications/lookup-by-iin",
        json={"iin": APPLICANT_IIN},
        headers=auth(Role.SPECIALIST, OTHER_DEPT),
    )
    assert other.json()["items"] == []
    denied = await client.post(
        "/v1/applications/lookup-by-iin", json={"iin": APPLICANT_IIN}, headers=auth(Role.ADMIN)
    )
    assert denied.status_code == 403
    async with pool.acquire() as conn:
        reads = await conn.fetch(
            f"SELECT actor, office, details FROM {intake_schema}.audit_log"
            " WHERE action = 'personal_data.read'"
        )
    assert len(reads) == 2
    assert APPLICANT_IIN not in json.dumps([dict(r) for r in reads], default=str)
    # ...yet whoever holds the audit key can tell whose data each read was about.
    wanted = iin_pseudonym(default_audit_key(), APPLICANT_IIN)
    assert all(r["details"]["person_pseudonym"] == wanted for r in reads)


async def test_the_iin_pseudonym_is_keyed_by_the_audit_key_not_the_token_secret(
    pool: asyncpg.Pool, intake_schema: str, catalog: CatalogAdapter, offices: OfficeBook
) -> None:
    """Rotating the token secret leaves the pseudonym of an ИИН as it was (it is derived from the
    audit key), so reads before and after the rotation are found together."""
    for secret in (SECRET, "rotated-token-secret-" + "y" * 32):
        app = create_app(pool, schema=intake_schema, catalog=catalog, offices=offices, token_secret=secret)
        await app.state.intake.start()
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
                bearer = issue_token(secret, subject="s@" + DEPT, role=Role.SPECIALIST, office=DEPT)
                r = await client.post(
                    "/v1/applications/lookup-by-iin",
                    json={"iin": APPLICANT_IIN},
                    headers={"Authorization": f"Bearer {bearer}"},
                )
                assert r.status_code == 200, r.text
        finally:
            await app.state.intake.stop()
    async with pool.acquire() as conn:
        reads = await conn.fetch(
            f"SELECT details FROM {intake_schema}.audit_log WHERE action = 'personal_data.read'"
        )
    pseudonyms = {r["details"]["person_pseudonym"] for r in reads}
    assert len(reads) == 2
    assert pseudonyms == {iin_pseudonym(default_audit_key(), APPLICANT_IIN)}


@pytest.mark.parametrize(
    ("content", "content_type", "expected"),
    [
        (b'{"service_id": ', "application/json", {400, 422}),
        (b"[1, 2, 3]", "application/json", {422}),
        (b"not json at all", "application/json", {400, 422}),
        (b"\xff\xfe\x00garbage", "application/json", {400, 422}),
        (json.dumps(unemployed_registration(documents="many")).encode(), "application/json", {422}),
        (json.dumps(unemployed_registration(applicant={"iin": 42})).encode(), "application/json", {422}),
        (b"[" * 50_000 + b"]" * 50_000, "application/json", {400, 422}),
        (b'{"a":' * 20_000 + b"1" + b"}" * 20_000, "application/json", {400, 422}),
        (b"x" * (10 * 1024 * 1024), "application/json", {413}),
        (b"service_id=x", "application/x-www-form-urlencoded", {400, 415, 422}),
    ],
)
async def test_hostile_bodies_get_a_4xx_problem_never_a_500(
    client: httpx.AsyncClient, content: bytes, content_type: str, expected: set[int]
) -> None:
    r = await client.post(
        "/v1/applications", content=content, headers={**auth(), "Content-Type": content_type}
    )
    assert r.status_code in expected, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith(PROBLEM)


async def test_metrics_report_projection_lag(client: httpx.AsyncClient) -> None:
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert re.search(r"^intake_projection_lag_events \d", r.text, re.M)
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/openapi.json")).status_code == 200


async def test_unstorable_values_are_a_4xx_never_a_500(client: httpx.AsyncClient) -> None:
    body = unemployed_registration()
    body["applicant"]["full_name"] = "Айгүл\x00"
    r = await client.post("/v1/applications", json=body, headers=auth())
    assert r.status_code == 422
    assert {
        "field": "body.applicant.full_name",
        "reason": "Value error, must not contain NUL characters",
    } in (r.json()["errors"])
    ok = await client.post("/v1/applications", json=unemployed_registration(), headers=auth())
    app_id = ok.json()["application_id"]
    r = await client.post(f"/v1/applications/{app_id}/withdrawal", json={"reason": "x\x00y"}, headers=auth())
    assert r.status_code == 422
    for edge in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):
        r = await client.get("/v1/applications", params={"submitted_from": edge}, headers=auth())
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith(PROBLEM)


async def test_a_malformed_submission_is_recorded_as_refused(
    client: httpx.AsyncClient, pool: asyncpg.Pool, intake_schema: str
) -> None:
    body = unemployed_registration()
    del body["applicant"]["full_name"]
    body["documents"][0]["document_id"] = "Not An Id!"
    r = await client.post("/v1/applications", json=body, headers=auth())
    assert r.status_code == 422
    problem = r.json()
    fields = {e["field"] for e in problem["errors"]}
    assert {"body.applicant.full_name", "body.documents.0.document_id"} <= fields
    view = await _status(client, problem["application_id"], "rejected")
    assert {p["field"] for p in view["problems"]} == fields
    async with pool.acquire() as conn:
        outcome = await conn.fetchval(
            f"SELECT details->>'outcome' FROM {intake_schema}.audit_log WHERE {OWN_RECORDS}"
        )
    assert outcome == "rejected"
    # Anonymous garbage is not an application: nothing is recorded for it.
    before = await _count(pool, intake_schema, "events")
    anonymous = await client.post("/v1/applications", json=body)
    assert anonymous.status_code in (401, 422)
    assert await _count(pool, intake_schema, "events") == before


async def test_one_correlation_id_per_request_in_events_and_audit(
    client: httpx.AsyncClient, pool: asyncpg.Pool, intake_schema: str
) -> None:
    ok = await client.post("/v1/applications", json=unemployed_registration(), headers=auth())
    app_id = ok.json()["application_id"]
    r = await client.post(f"/v1/applications/{app_id}/withdrawal", json={}, headers=auth())
    assert r.status_code == 200, r.text
    async with pool.acquire() as conn:
        event_corr = await conn.fetchval(
            f"SELECT metadata->>'correlation_id' FROM {intake_schema}.events"
            " WHERE event_type = 'application.withdrawn'"
        )
        audit_corr = await conn.fetchval(
            f"SELECT correlation_id FROM {intake_schema}.audit_log WHERE action LIKE '%withdraw%'"
        )
    assert event_corr and event_corr == audit_corr
