"""Who sees what of a case (issue 15, section 3): the whole case only for the roles that handle
or audit it, in scope; a status without personal data for the desk, ЦОН operators (their own
submissions) and administrators; another office's case answers 404 as a missing one would."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from services.decision.domain import commands as c
from services.decision.entrypoints.api import create_app
from services.decision.service import DecisionService
from shared.auth.roles import Role

from .helpers import submitted
from .test_api import HEAD, OFFICE, SECRET, _to_signature, token

OPERATOR = "tson.operator.a"
STATUS_KEYS = {
    "application_id",
    "registration_number",
    "service_id",
    "office_id",
    "channel",
    "status",
    "due_at",
    "breached",
    "outcome",
    "decided_at",
}


@pytest.fixture
async def client(service: DecisionService) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(service, token_secret=SECRET)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://decision") as http:
        yield http


async def _decided_case(service: DecisionService, client: httpx.AsyncClient) -> str:
    """A case an operator received, decided with household incomes 7123/7124 on record."""
    sub = submitted(incomes=("7123", "7124")).model_copy(update={"received_by": OPERATOR})
    await service.execute(sub.application_id, c.OpenCase(sub))
    await _to_signature(client, sub.application_id, incomes=("7123", "7124"))
    assert (await client.post(f"/v1/cases/{sub.application_id}/sign", headers=HEAD)).status_code == 200
    return sub.application_id


@pytest.mark.parametrize(
    ("role", "office", "subject"),
    [
        (Role.CLERK, OFFICE, "clerk-1"),
        (Role.TSON, OFFICE, OPERATOR),
        (Role.ADMIN, "hq", "admin-1"),
    ],
)
async def test_the_desk_and_administrators_see_the_status_without_personal_data(
    client: httpx.AsyncClient, service: DecisionService, role: Role, office: str, subject: str
) -> None:
    aid = await _decided_case(service, client)
    r = await client.get(f"/v1/cases/{aid}", headers=token(role, subject, office))
    assert r.status_code == 200, r.text
    view = r.json()
    assert set(view) == STATUS_KEYS
    assert view["status"] == "active" and view["outcome"] == "approved" and view["decided_at"]
    for personal in ("7123", "7124", "Member 0", "household", "evaluation", "900101300123"):
        assert personal not in r.text


@pytest.mark.parametrize(
    ("role", "office"), [(Role.SPECIALIST, OFFICE), (Role.HEAD, OFFICE), (Role.AUDITOR, "hq")]
)
async def test_case_handling_and_auditing_roles_see_the_whole_case(
    client: httpx.AsyncClient, service: DecisionService, role: Role, office: str
) -> None:
    aid = await _decided_case(service, client)
    r = await client.get(f"/v1/cases/{aid}", headers=token(role, "reader-1", office))
    assert r.status_code == 200, r.text
    assert r.json()["decision"]["evaluation"] and "7123" in json.dumps(r.json())


async def test_another_office_or_operator_gets_the_answer_of_a_missing_case(
    client: httpx.AsyncClient, service: DecisionService
) -> None:
    aid = await _decided_case(service, client)
    missing = await client.get(f"/v1/cases/{uuid.uuid4().hex}", headers=HEAD)
    assert missing.status_code == 404
    for role, subject, office in (
        (Role.TSON, "tson.operator.b", OFFICE),  # the same office, not the operator who received it
        (Role.CLERK, "clerk-9", "other-office"),
        (Role.SPECIALIST, "spec-9", "other-office"),
        (Role.HEAD, "head-9", "other-office"),
    ):
        r = await client.get(f"/v1/cases/{aid}", headers=token(role, subject, office))
        assert r.status_code == 404, (role, r.text)
        assert r.json()["detail"] == missing.json()["detail"].replace(missing.url.path.split("/")[-1], aid)
    r = await client.post(
        f"/v1/cases/{aid}/extend", json={"reason": "x"}, headers=token(Role.HEAD, "h", "elsewhere")
    )
    assert r.status_code == 404
    # A role refusal is still a 403: it tells nothing of the case.
    r = await client.post(f"/v1/cases/{aid}/sign", headers=token(Role.CLERK, "clerk-1"))
    assert r.status_code == 403
    r = await client.get(f"/v1/cases/{aid}/history", headers=token(Role.TSON, OPERATOR))
    assert r.status_code == 403
