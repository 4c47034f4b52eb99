"""The console's pages against canned service answers (the network replaced by a transport that
records every request): sign-in and its refusals, the token forwarded to the services, a
cross-office role asking for every office's complaint queue, a refused read shown as missing, the
case history in time order without event bodies, bad input answered with 4xx, escaped charts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.console.app import create_app
from services.console.charts import stacked_bars
from services.console.settings import ConsoleSettings
from shared.auth.roles import Role
from shared.auth.tokens import issue_token

SECRET = "console-unit-secret-" + "u" * 32
APP_ID = "0b8f5a4e-8d0c-4a4e-9a44-3f1d1f0a9a11"
DEPT = "karaganda-dept-01"
SUMMARY = {
    "approaching_days": 3,
    "by_status": [
        {"service_id": "unemployed_registration", "status": "submitted", "count": 4},
        {"service_id": "unemployed_registration", "status": "decided", "count": 2},
        {"service_id": "<script>alert(1)</script>", "status": "submitted", "count": 1},
    ],
    "offices": [{"office_id": DEPT, "open": 5, "overdue": 1, "approaching": 2}],
    "decided_in_term": [{"service_id": "unemployed_registration", "decided": 2, "decided_in_term": 1}],
    "recent_decisions": [
        {"application_id": APP_ID, "registration_number": "KRG-1", "service_id": "unemployed_registration",
         "office_id": DEPT, "outcome": "refused", "decided_at": "2026-03-02T10:00:00Z", "due_at": None},
    ],
}  # fmt: skip
APPLICATION = {
    "application_id": APP_ID, "registration_number": "KRG-1", "status": "decided",
    "service_id": "unemployed_registration", "office_id": DEPT, "channel": "department",
    "submitted_at": "2026-03-01T09:00:00Z", "due_at": "2026-03-10T09:00:00Z", "overdue": False,
    "decision": {"outcome": "refused", "decided_at": "2026-03-02T10:00:00Z", "grounds": []},
    "history": [
        {"version": 1, "event_type": "ApplicationSubmitted", "recorded_at": "2026-03-01T09:00:00Z",
         "actor": "clerk-1", "status": "submitted"},
        {"version": 2, "event_type": "CaseDecided", "recorded_at": "2026-03-02T10:00:01Z",
         "actor": None, "status": "decided"},
    ],
}  # fmt: skip
CASE_HISTORY = [
    {"version": 1, "type": "CaseOpened", "recorded_at": "2026-03-01T09:00:02Z",
     "data": {"household": [{"full_name": "Айгүл Нұрланова"}]}},
    {"version": 2, "type": "DecisionMade", "recorded_at": "2026-03-02T10:00:00Z",
     "data": {"outcome": "refused"}},
]  # fmt: skip
COMPLAINTS = {"items": [
    {"registration_number": "C-1", "registered_at": "2026-03-03T08:00:00Z", "reviewing_office": "krg-oblast",
     "review_due_on": "2026-03-20", "resolved_at": None, "outcome": None},
]}  # fmt: skip


class Services:
    """Canned answers by path; records every request it was asked."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.refuse: set[str] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path in self.refuse:
            return httpx.Response(403, json={"detail": "no"})
        answers: dict[str, Any] = {
            "/v1/applications/summary": SUMMARY,
            "/v1/applications": {"items": [APPLICATION], "next_cursor": None},
            "/v1/complaints/queue": {"items": []},
            "/v1/complaints/figures": {
                "from": "2026-01-01", "to": "2026-03-04", "service": None, "office": None,
                "applicants_served": 10, "complaints_answered": 1, "justified_complaints": 1,
                "justified_complaints_in_term": 1, "justified_complaints_share": "10.0",
                "justified_complaints_resolved_in_term": "100.0",
            },
            f"/v1/applications/{APP_ID}": APPLICATION,
            f"/v1/cases/{APP_ID}/history": CASE_HISTORY,
            "/v1/complaints": COMPLAINTS,
            "/v1/notifications": {"application_id": APP_ID, "notifications": []},
        }  # fmt: skip
        if request.url.params.get("application", APP_ID) != APP_ID:
            return httpx.Response(200, json={"items": [], "notifications": []})
        if path not in answers:
            return httpx.Response(404, json={"detail": "no such thing"})
        return httpx.Response(200, json=answers[path])


@pytest.fixture
def services() -> Services:
    return Services()


@pytest.fixture
async def console(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(
        settings=ConsoleSettings(),
        urls={s: f"http://{s}.test" for s in ("intake", "decision", "notification", "complaints")},
        token_secret=SECRET,
        transport=httpx.MockTransport(services),
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console") as client,
    ):
        yield client


def _token(role: Role, office: str = DEPT) -> str:
    return issue_token(SECRET, subject=f"{role.value}-1", role=role, office=office)


async def _sign_in(console: httpx.AsyncClient, role: Role, office: str = DEPT) -> httpx.Response:
    return await console.post("/signin", data={"token": _token(role, office)})


async def test_sign_in_refuses_bad_tokens_and_other_roles_and_keeps_an_httponly_cookie(
    console: httpx.AsyncClient,
) -> None:
    first = await console.get("/")
    assert first.status_code == 303 and first.headers["location"] == "/signin"
    assert (await console.post("/signin", data={"token": ""})).status_code == 400
    forged = await console.post(
        "/signin", data={"token": issue_token("x" * 40, subject="s", role=Role.HEAD, office=DEPT)}
    )
    assert forged.status_code == 401 and "not accepted" in forged.text
    clerk = await _sign_in(console, Role.CLERK)
    assert clerk.status_code == 403 and "may not use the console" in clerk.text
    assert "qyzmet_console" not in clerk.headers.get("set-cookie", "")
    head = await _sign_in(console, Role.HEAD)
    assert head.status_code == 303
    cookie = head.headers["set-cookie"]
    assert "qyzmet_console=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "script-src" not in head.headers["content-security-policy"]  # default-src 'none': no script


async def test_overview_reads_the_services_with_the_holders_token(
    console: httpx.AsyncClient, services: Services
) -> None:
    head_token = _token(Role.HEAD)
    await console.post("/signin", data={"token": head_token})
    page = await console.get("/")
    assert page.status_code == 200, page.text
    assert "<svg" in page.text and "unemployed_registration" in page.text and "KRG-1" in page.text
    assert "&lt;script&gt;" in page.text and "<script>" not in page.text
    assert "Served within the set term" in page.text and "1 of 2 decisions" in page.text
    assert {r.headers["authorization"] for r in services.requests} == {f"Bearer {head_token}"}
    queue = next(r for r in services.requests if r.url.path == "/v1/complaints/queue")
    assert "every_office" not in str(queue.url)  # an office's head: its own queue

    services.requests.clear()
    services.refuse.add("/v1/complaints/figures")
    await _sign_in(console, Role.AUDITOR, "national-compliance")
    page = await console.get("/")
    queue = next(r for r in services.requests if r.url.path == "/v1/complaints/queue")
    assert queue.url.params["every_office"] == "true"
    assert "complaint figures: not visible to your role or office" in page.text


async def test_case_page_merges_every_services_history_in_time_order_without_bodies(
    console: httpx.AsyncClient,
) -> None:
    await _sign_in(console, Role.HEAD)
    page = await console.get(f"/cases/{APP_ID}")
    assert page.status_code == 200, page.text
    order = ["ApplicationSubmitted", "CaseOpened", "DecisionMade", "CaseDecided", "complaint.registered"]
    positions = [page.text.index(f'<td class="event">{name}</td>') for name in order]
    assert positions == sorted(positions)
    assert "Нұрланова" not in page.text  # event bodies (household names) are never shown
    missing = await console.get("/cases/7f000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    bad = await console.get("/cases", params={"application_id": "not-a-uuid"})
    assert bad.status_code == 400 and "application_id" in bad.text
    assert (await console.get("/cases/not-a-uuid")).status_code == 422


async def test_signed_out_or_unsigned_visitors_see_no_case(console: httpx.AsyncClient) -> None:
    assert (await console.get(f"/cases/{APP_ID}")).headers["location"] == "/signin"
    await _sign_in(console, Role.HEAD)
    out = await console.post("/signout")
    assert out.status_code == 303 and 'qyzmet_console=""' in out.headers["set-cookie"]


def test_charts_escape_every_label() -> None:
    svg = str(stacked_bars('a "title"', [("<b>x</b>", {"s&t": 2})], ["s&t"]))
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "s&amp;t" in svg and "&#34;title&#34;" in svg


def test_quality_shows_each_service_against_its_own_target_and_says_when_a_seed_value_is_suspect() -> None:
    from datetime import date

    from services.console.overview import quality
    from shared.catalog.loader import load_catalog
    from shared.quality.targets import TargetBook

    summary = {
        "decided_in_term": [
            {"service_id": "unemployed_registration", "decided": 4, "decided_in_term": 3},
            {"service_id": "targeted_social_assistance", "decided": 2, "decided_in_term": 2},
        ]
    }
    figures = {
        "applicants_served": 6, "justified_complaints": 1, "justified_complaints_in_term": 1,
        "justified_complaints_share": "16.7", "justified_complaints_resolved_in_term": "100.0",
    }  # fmt: skip
    found = {i.label: i for i in quality(summary, figures, TargetBook(load_catalog()), date(2026, 3, 1))}
    overall = found["Served within the set term"]
    assert overall.value == pytest.approx(5 / 6 * 100) and overall.target is None  # the targets differ
    assert found["in term: unemployed_registration"].value == 75.0
    assert found["in term: unemployed_registration"].target == 100.0
    assert found["in term: targeted_social_assistance"].target is not None
    share = found["Justified complaints per applicants served"]
    assert share.ceiling and share.value == 16.7
