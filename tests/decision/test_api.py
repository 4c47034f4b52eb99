"""HTTP commands by role and office over real PostgreSQL: audit, flags, worklists, re-evaluation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from services.decision.adapters.projection import rebuild_cases
from services.decision.domain import commands as c
from services.decision.entrypoints.api import create_app
from services.decision.service import DecisionService
from shared.audit import AuditLog
from shared.auth.roles import Role
from shared.auth.tokens import issue_token
from shared.catalog import ParameterRecord
from shared.catalog.errors import UnknownEdition
from shared.catalog.store import CatalogStore

from .conftest import FakeClock
from .helpers import act_json, submitted

SECRET = "test-secret-decision-0123456789abcdef"
OFFICE = "akmola-village-1"


def token(role: Role, subject: str, office: str = OFFICE) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, subject=subject, role=role, office=office)}"}


HEAD = token(Role.HEAD, "head-1")
SPEC = token(Role.SPECIALIST, "spec-1")
INSP = token(Role.INSPECTOR, "insp-1")


@pytest.fixture
async def client(service: DecisionService) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(service, token_secret=SECRET)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://decision") as http:
        yield http


async def _open(service: DecisionService, **kw: object) -> str:
    sub = submitted(**kw)  # type: ignore[arg-type]
    await service.execute(sub.application_id, c.OpenCase(sub))
    return sub.application_id


async def _to_signature(
    client: httpx.AsyncClient, aid: str, incomes: tuple[str, ...] = ("9000", "9000")
) -> None:
    r = await client.post(f"/v1/cases/{aid}/assign", json={"executor": "spec-1"}, headers=HEAD)
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/v1/cases/{aid}/inspection/schedule", json={"inspection_date": "2012-11-17"}, headers=INSP
    )
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/v1/cases/{aid}/inspection/complete", json={"act": act_json(incomes)}, headers=INSP
    )
    assert r.status_code == 200, r.text
    r = await client.post(f"/v1/cases/{aid}/draft", json={"amount": "4000"}, headers=SPEC)
    assert r.status_code == 200, r.text
    assert r.json()["case"]["status"] == "awaiting_signature"


async def test_case_through_http_with_roles_and_audit(
    client: httpx.AsyncClient, service: DecisionService, pool: asyncpg.Pool, decision_schema: str
) -> None:
    aid = await _open(service)
    r = await client.post(f"/v1/cases/{aid}/draft", json={"amount": "4000"}, headers=SPEC)
    assert r.status_code == 409  # inspection first
    await _to_signature(client, aid)

    r = await client.post(f"/v1/cases/{aid}/sign", headers=SPEC)
    assert r.status_code == 403
    r = await client.post(f"/v1/cases/{aid}/sign", headers=token(Role.HEAD, "head-9", "other-office"))
    assert r.status_code == 404  # another office's case is not revealed to exist
    r = await client.get(f"/v1/cases/{aid}", headers=token(Role.SPECIALIST, "x", "other-office"))
    assert r.status_code == 404

    r = await client.post(f"/v1/cases/{aid}/sign", headers=HEAD)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["events"] == ["decision.made", "entitlement.started"]
    decision = body["case"]["decision"]
    assert decision["outcome"] == "approved" and decision["signed_by"] == "head-1"
    assert decision["evaluation"]["edition_id"] == "akmola_2012_regulation"

    desk = token(Role.CLERK, "clerk-1")  # the desk does not read household incomes
    assert (await client.get(f"/v1/cases/{aid}/history", headers=desk)).status_code == 403
    assert (await client.get(f"/v1/cases/{aid}/decision/reevaluation", headers=desk)).status_code == 403
    r = await client.get(f"/v1/cases/{aid}/decision/reevaluation", headers=token(Role.AUDITOR, "aud", "hq"))
    assert r.status_code == 200 and r.json()["reproduced"] is True

    async with pool.acquire() as conn:
        every = [r async for r in AuditLog(decision_schema).records(conn)]
        assert (await AuditLog(decision_schema).verify(conn)).ok
    assert {r.entry.action for r in every if r.entry.action.startswith("auth.")} == {
        "auth.sign_in",
        "auth.denied",
    }
    records = [r for r in every if not r.entry.action.startswith(("auth.", "request."))]
    actions = [(r.entry.actor, r.entry.action) for r in records]
    assert ("head-1", "case.assign_executor") in actions
    assert ("insp-1", "inspection.schedule") in actions
    assert ("insp-1", "inspection.record") in actions
    assert ("spec-1", "decision.draft") in actions
    assert ("head-1", "decision.sign") in actions
    assert ("aud", "personal_data.read") in actions  # the evaluation holds household incomes
    assert all(r.entry.subject == f"application:{aid}" for r in records)


async def test_parameter_missing_flags_the_case_via_http(
    client: httpx.AsyncClient, service: DecisionService, clock: FakeClock
) -> None:
    aid = await _open(service, received_at=datetime(2013, 2, 1, 5, tzinfo=UTC))  # no poverty line in force
    clock.now = datetime(2013, 2, 2, tzinfo=UTC)
    await client.post(
        f"/v1/cases/{aid}/inspection/schedule", json={"inspection_date": "2013-02-03"}, headers=INSP
    )
    await client.post(f"/v1/cases/{aid}/inspection/complete", json={"act": act_json()}, headers=INSP)
    r = await client.post(f"/v1/cases/{aid}/draft", json={"amount": "4000"}, headers=SPEC)
    assert r.status_code == 409
    problem = r.json()
    assert problem["parameter"] == "poverty_line" and problem["region"] == "akmola"
    assert problem["on_date"] == "2013-02-01"
    r = await client.get(f"/v1/cases/{aid}", headers=SPEC)
    assert r.json()["flags"][0]["parameter"] == "poverty_line"
    assert r.json()["status"] == "under_review"  # not crashed, still workable


async def test_a_value_an_administrator_recorded_is_used_by_the_next_decision(
    client: httpx.AsyncClient, service: DecisionService, clock: FakeClock, admin_pool: asyncpg.Pool
) -> None:
    store = CatalogStore(service.catalog.catalog, service.settings.catalog_schema)
    async with admin_pool.acquire() as conn:  # the administrator's `qyzmet params set`
        await store.migrate(conn)
        await store.set_parameter(
            conn,
            ParameterRecord(
                parameter="poverty_line",
                region="akmola",
                effective_from=date(2013, 1, 1),
                value="9876",
                source="Akmola oblast akimat resolution (test)",
            ),
            actor="admin@akmola",
            role="admin",
        )
    await service.catalogs.refresh()
    aid = await _open(service, received_at=datetime(2013, 2, 1, 5, tzinfo=UTC))
    clock.now = datetime(2013, 2, 2, tzinfo=UTC)
    await client.post(
        f"/v1/cases/{aid}/inspection/schedule", json={"inspection_date": "2013-02-03"}, headers=INSP
    )
    await client.post(f"/v1/cases/{aid}/inspection/complete", json={"act": act_json()}, headers=INSP)
    r = await client.post(f"/v1/cases/{aid}/draft", json={"amount": "4000"}, headers=SPEC)
    assert r.status_code == 200, r.text
    used = r.json()["case"]["draft"]["evaluation"]["parameters"]
    assert any(p["parameter"] == "poverty_line" and p["value"] == "9876" for p in used), used


async def test_overdue_worklist_per_office(
    client: httpx.AsyncClient,
    service: DecisionService,
    clock: FakeClock,
    pool: asyncpg.Pool,
    decision_schema: str,
) -> None:
    late = await _open(service, due_in=timedelta(days=1))
    await _open(service, due_in=timedelta(days=60))
    await _open(service, office_id="other-office", due_in=timedelta(days=1))
    clock.now = datetime(2012, 12, 1, tzinfo=UTC)
    r = await client.get("/v1/worklists/overdue", params={"office": OFFICE}, headers=HEAD)
    assert r.status_code == 200
    assert [row["application_id"] for row in r.json()] == [late]
    r = await client.get("/v1/worklists/overdue", params={"office": "other-office"}, headers=HEAD)
    assert r.status_code == 403
    async with pool.acquire() as conn:
        assert await rebuild_cases(conn, decision_schema) == 3
    r = await client.get("/v1/worklists/overdue", params={"office": OFFICE}, headers=HEAD)
    assert [row["application_id"] for row in r.json()] == [late]


async def test_concurrent_commands_are_retried_not_lost(service: DecisionService) -> None:
    aid = await _open(service)
    head = c.Actor("head-1", "head", OFFICE)
    results = await asyncio.gather(
        *(service.execute(aid, c.AssignExecutor(head, f"spec-{i}")) for i in range(8))
    )
    assert all(len(r.events) == 1 for r in results)
    state = await service.get(aid)
    assert state.version == 1 + 8


async def test_reopen_after_upheld_complaint_keeps_history(
    client: httpx.AsyncClient, service: DecisionService, clock: FakeClock, pool: asyncpg.Pool
) -> None:
    aid = await _open(service)
    await _to_signature(client, aid)
    assert (await client.post(f"/v1/cases/{aid}/sign", headers=HEAD)).status_code == 200
    clock.now = datetime(2012, 12, 20, 6, tzinfo=UTC)
    body = {"complaint_id": "cmp-42", "reason": "complaint upheld: inspection act ignored a member"}
    r = await client.post(f"/v1/cases/{aid}/reopen", json=body, headers=HEAD)
    assert r.status_code == 403
    elsewhere = token(Role.REVIEWER, "other-reviewer", "karaganda")  # another region's body
    r = await client.post(f"/v1/cases/{aid}/reopen", json=body, headers=elsewhere)
    assert r.status_code == 404
    reviewer = token(Role.REVIEWER, "akim-reviewer", "akmola")  # the region's higher body
    r = await client.post(f"/v1/cases/{aid}/reopen", json=body, headers=reviewer)
    assert r.status_code == 200, r.text
    case = r.json()["case"]
    assert case["status"] == "under_review" and case["decision"] is None
    assert datetime.fromisoformat(case["due_at"]) > clock.now
    async with pool.acquire() as conn:
        pending = await service.timers.pending(conn, aid)
    assert {p["kind"] for p in pending} == {"deadline_approaching", "deadline_breached"}
    r = await client.post(f"/v1/cases/{aid}/draft", json={"amount": "4500"}, headers=SPEC)
    assert r.status_code == 200, r.text
    r = await client.post(f"/v1/cases/{aid}/sign", headers=HEAD)
    assert r.json()["case"]["decision"]["amount"] == "4500"
    types = [h["type"] for h in await service.history(aid)]
    assert types.count("decision.made") == 2 and "decision.application_reopened" in types


async def test_entitlement_facts_by_http(client: httpx.AsyncClient, service: DecisionService) -> None:
    aid = await _open(service)
    await _to_signature(client, aid)
    await client.post(f"/v1/cases/{aid}/sign", headers=HEAD)
    r = await client.post(
        f"/v1/cases/{aid}/facts", json={"fact": "moved_away", "on": "2013-01-15"}, headers=SPEC
    )
    assert r.status_code == 200, r.text
    assert r.json()["events"] == ["entitlement.terminated"]
    assert r.json()["case"]["status"] == "ended"
    r = await client.post(f"/v1/cases/{aid}/facts", json={"fact": "death", "on": "2013-01-16"}, headers=SPEC)
    assert r.status_code == 409


async def test_an_act_from_the_future_and_a_backwards_period_are_422_naming_the_field(
    client: httpx.AsyncClient, service: DecisionService, clock: FakeClock
) -> None:
    aid = await _open(service)
    r = await client.post(f"/v1/cases/{aid}/assign", json={"executor": "spec-1"}, headers=HEAD)
    assert r.status_code == 200, r.text
    tomorrow = (clock.now + timedelta(days=1)).date().isoformat()
    act = act_json(inspected_on=tomorrow)
    r = await client.post(f"/v1/cases/{aid}/inspection/complete", json={"act": act}, headers=INSP)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert [e["field"] for e in problem["errors"]] == ["act.inspected_on"]
    assert tomorrow not in problem["detail"]  # the office's today, not the rejected input, is quoted
    r = await client.post(f"/v1/cases/{aid}/inspection/complete", json={"act": act_json()}, headers=INSP)
    assert r.status_code == 200, r.text
    backwards = {"amount": "4000", "period_start": "2013-01-01", "period_end": "2012-12-01"}
    r = await client.post(f"/v1/cases/{aid}/draft", json=backwards, headers=SPEC)
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["period_end"]
    r = await client.get(f"/v1/cases/{aid}", headers=SPEC)
    assert r.json()["draft"] is None and r.json()["inspection_completed"]


async def test_a_case_the_catalog_no_longer_knows_is_a_409_not_a_500(
    client: httpx.AsyncClient, service: DecisionService
) -> None:
    aid = await _open(service)
    # The catalog in use forgets the case's edition (a catalog replaced under running cases).
    catalog = service.catalogs.catalog
    real_edition = catalog.edition

    def forgotten(service_id: str, edition_id: str) -> Any:
        raise UnknownEdition(service_id, edition_id)

    catalog.edition = forgotten  # type: ignore[method-assign]
    try:
        r = await client.post(f"/v1/cases/{aid}/assign", json={"executor": "spec-1"}, headers=HEAD)
    finally:
        catalog.edition = real_edition  # type: ignore[method-assign]
    assert r.status_code == 409, r.text
    assert r.json()["type"].endswith("/catalog") and r.json()["title"] == "The catalog cannot answer"


async def test_an_officers_command_continues_the_applications_correlation_unless_it_names_one(
    client: httpx.AsyncClient, service: DecisionService, pool: asyncpg.Pool, decision_schema: str
) -> None:
    sub = submitted()
    await service.execute(sub.application_id, c.OpenCase(sub), correlation_id="INTAKE-CORR")
    aid = sub.application_id
    r = await client.post(f"/v1/cases/{aid}/assign", json={"executor": "spec-1"}, headers=HEAD)
    assert r.status_code == 200, r.text
    r = await client.post(
        f"/v1/cases/{aid}/assign",
        json={"executor": "spec-2"},
        headers={**HEAD, "X-Correlation-Id": "desk-request-7"},
    )
    assert r.status_code == 200, r.text
    async with pool.acquire() as conn:
        stored = await conn.fetch(
            f"SELECT metadata->>'correlation_id' AS c FROM {decision_schema}.events"
            " WHERE stream_id = $1 ORDER BY version",
            f"case-{aid}",
        )
        records = [r async for r in AuditLog(decision_schema).records(conn)]
    records.sort(key=lambda r: r.recorded_at)  # one chain per office: in time order across them
    audited = [
        r.entry.correlation_id for r in records if not r.entry.action.startswith(("auth.", "request."))
    ]
    assert [row["c"] for row in stored] == ["INTAKE-CORR", "INTAKE-CORR", "desk-request-7"]
    assert audited[-2:] == ["INTAKE-CORR", "desk-request-7"]
