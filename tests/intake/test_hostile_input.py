"""Bad input never reaches a 500 nor the logs: NUL characters and unpaired surrogates in any
string, retried malformed submissions, impossible ИИН in a lookup (issue 15, section 3)."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

import asyncpg
import httpx
import pytest

from services.intake.domain.identity import make_iin
from tests.intake.conftest import auth, unemployed_registration

PROBLEM = "application/problem+json"
MARK = "QZ-MARK-7731"
"""Text the caller sent, looked for in the logs (it must never be there)."""


async def _events(pool: asyncpg.Pool, schema: str) -> int:
    async with pool.acquire() as conn:
        total: int = await conn.fetchval(f"SELECT count(*) FROM {schema}.events")
        return total


async def _post(client: httpx.AsyncClient, body: dict[str, Any], **headers: str) -> httpx.Response:
    # Serialised by hand: an unpaired surrogate travels as the JSON escape "\ud800".
    return await client.post(
        "/v1/applications",
        content=json.dumps(body),
        headers={**(headers or auth()), "Content-Type": "application/json"},
    )


@pytest.mark.parametrize("field", ["service_id", "channel", "idempotency_key"])
@pytest.mark.parametrize("otherwise", ["valid", "malformed"])
async def test_nul_in_an_identifying_field_is_a_recorded_422_and_stays_out_of_the_logs(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool,
    intake_schema: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    field: str,
    otherwise: str,
) -> None:
    body = unemployed_registration(**{field: f"{MARK}\x00x"})
    if otherwise == "malformed":
        del body["applicant"]["full_name"]
    r = await _post(client, body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    problem = r.json()
    assert {"field": f"body.{field}", "reason": "Value error, must not contain NUL characters"} in problem[
        "errors"
    ]
    assert "application_id" in problem  # still a refused submission of an identified officer
    assert await _events(pool, intake_schema) == 1
    out = capsys.readouterr()
    assert MARK not in out.out + out.err + caplog.text


@pytest.mark.parametrize(
    "where",
    ["service_id", "channel", "idempotency_key", "subtype", "full_name", "document_id", "categories"],
)
@pytest.mark.parametrize("otherwise", ["valid", "malformed"])
async def test_an_unpaired_surrogate_in_any_string_is_a_422(
    client: httpx.AsyncClient, where: str, otherwise: str
) -> None:
    body = unemployed_registration()
    bad = "x\ud800"
    if where == "full_name":
        body["applicant"]["full_name"] = bad
    elif where == "document_id":
        body["documents"][0]["document_id"] = bad
    elif where == "categories":
        body["categories"] = [bad]
    else:
        body[where] = bad
    if otherwise == "malformed":
        body["documents"] = "many"
    r = await _post(client, body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM)


async def test_an_unpaired_surrogate_in_a_change_or_an_unknown_member_is_a_422(
    client: httpx.AsyncClient,
) -> None:
    ok = await client.post("/v1/applications", json=unemployed_registration(), headers=auth())
    app_id = ok.json()["application_id"]
    for path, body in (
        (f"/v1/applications/{app_id}/withdrawal", {"reason": "moved\ud800"}),
        (f"/v1/applications/{app_id}/documents", {"documents": [{"document_id": "a\udfff"}]}),
        ("/v1/applications/lookup-by-iin", {"iin": "\ud800" * 12}),
        ("/v1/applications", {**unemployed_registration(), "x\ud800\x00": 1}),
    ):
        r = await client.post(
            path, content=json.dumps(body), headers={**auth(), "Content-Type": "application/json"}
        )
        assert r.status_code == 422, (path, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)


async def test_a_retried_malformed_submission_is_one_refusal(
    client: httpx.AsyncClient, pool: asyncpg.Pool, intake_schema: str
) -> None:
    body = unemployed_registration()
    del body["applicant"]["full_name"]
    first = await _post(client, body)
    again = await _post(client, body)
    assert first.status_code == again.status_code == 422
    assert first.json()["application_id"] == again.json()["application_id"]
    assert (first.headers["idempotent-replayed"], again.headers["idempotent-replayed"]) == ("false", "true")
    assert await _events(pool, intake_schema) == 1
    other = await _post(client, {**body, "channel": "tson"})  # the same key, another body
    assert other.status_code == 409
    fixed = await _post(client, unemployed_registration(idempotency_key=body["idempotency_key"]))
    assert fixed.status_code == 409  # the key is bound to the refused body, as for any submission
    assert await _events(pool, intake_schema) == 1
    keyless = {k: v for k, v in body.items() if k != "idempotency_key"}
    assert (await _post(client, keyless)).status_code == 422
    assert (await _post(client, keyless)).status_code == 422
    assert await _events(pool, intake_schema) == 3  # nothing to tell the retries apart by


async def test_iin_lookup_refuses_a_birth_date_in_the_future(client: httpx.AsyncClient) -> None:
    unborn = make_iin(date(2099, 1, 2), 3)
    r = await client.post("/v1/applications/lookup-by-iin", json={"iin": unborn}, headers=auth())
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "iin"
    assert unborn not in r.text
    submitted = await client.post(
        "/v1/applications",
        json=unemployed_registration(
            idempotency_key=str(uuid.uuid4()),
            applicant={"iin": unborn, "full_name": "Болашақ Адам"},
        ),
        headers=auth(),
    )
    assert submitted.status_code == 422  # as submit does
