"""Quality-indicator figures (DOMAIN.md §10), computed by hand: justified complaints (upheld or
partly upheld) as a share of applicants served (distinct applications decided in the period),
and justified complaints answered within their term, per service, office and period."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import httpx

from shared.auth.roles import Role
from tests.complaints.conftest import (
    DEPT,
    REGISTERED_AT,
    REVIEWING,
    SERVICE,
    Clock,
    auth,
    complaint_body,
    decided,
    seed,
    submitted,
)


def _day(month: int, day: int) -> datetime:
    return datetime(2025, month, day, 6, 0, tzinfo=UTC)


async def test_figures_per_service_office_and_period(
    pool: asyncpg.Pool, complaints_schema: str, client: httpx.AsyncClient, clock: Clock
) -> None:
    a, b, c, f = (submitted() for _ in range(4))
    d = submitted(office_id="akmola-dept-01", region="akmola")
    e = submitted(service_id="targeted_social_assistance")
    await seed(
        pool, complaints_schema,
        a, decided(a, _day(3, 1)),
        b, decided(b, _day(3, 10)), decided(b, _day(3, 20)),  # reopened, decided again: served once
        c, decided(c, _day(4, 2)),  # after the period
        d, decided(d, _day(3, 5)),  # another office
        e, decided(e, _day(3, 6)),  # another service
        f, decided(f, _day(3, 15)),  # served, no complaint
    )  # fmt: skip

    async def complaint(application_id: str, outcome: str, answered: datetime, reviewer_office: str) -> None:
        clock.now = REGISTERED_AT  # due 18 March 2025, end of day in Karaganda
        talon = await client.post("/v1/complaints", json=complaint_body(application_id), headers=auth())
        assert talon.status_code == 201, talon.text
        clock.now = answered
        resolved = await client.post(
            f"/v1/complaints/{talon.json()['complaint_id']}/resolution",
            json={"outcome": outcome, "reasoning": "as found"},
            headers=auth(Role.REVIEWER, reviewer_office),
        )
        assert resolved.status_code == 200, resolved.text

    await complaint(a.application_id, "upheld", _day(3, 10), REVIEWING)  # justified, in term
    await complaint(b.application_id, "partly_upheld", _day(3, 25), REVIEWING)  # justified, late
    await complaint(b.application_id, "rejected", _day(3, 12), REVIEWING)  # not justified
    await complaint(e.application_id, "upheld", _day(3, 11), "karaganda-akimat")  # other service, in term
    await complaint(a.application_id, "upheld", _day(4, 5), REVIEWING)  # answered after the period

    async def figures(query: str, role: Role = Role.AUDITOR, office: str = "hq") -> httpx.Response:
        return await client.get(f"/v1/complaints/figures?from=2025-03-01&to=2025-03-31{query}",
                                headers=auth(role, office))  # fmt: skip

    per_service = (await figures(f"&service={SERVICE}&office={DEPT}")).json()
    # served: a, b, f (3); justified: a's, b's partly upheld (2); in term: a's (1).
    assert per_service == {
        "from": "2025-03-01", "to": "2025-03-31", "service": SERVICE, "office": DEPT,
        "applicants_served": 3, "complaints_answered": 3, "justified_complaints": 2,
        "justified_complaints_in_term": 1, "justified_complaints_share": "66.67",
        "justified_complaints_resolved_in_term": "50.00",
    }  # fmt: skip
    office = (await figures(f"&office={DEPT}")).json()
    # served: a, b, e, f (4); justified: 3; in term: a's and e's (2).
    counts = ("applicants_served", "justified_complaints", "justified_complaints_in_term")
    assert tuple(office[k] for k in counts) == (4, 3, 2)
    assert (office["justified_complaints_share"], office["justified_complaints_resolved_in_term"]) == (
        "75.00", "66.67",
    )  # fmt: skip
    everywhere = (await figures("")).json()
    assert everywhere["applicants_served"] == 5  # d counts too
    april = (await client.get("/v1/complaints/figures?from=2025-04-01&to=2025-04-30",
                              headers=auth(Role.AUDITOR, "hq"))).json()  # fmt: skip
    assert tuple(april[k] for k in counts) == (1, 1, 0)

    head = await figures("", Role.HEAD, DEPT)
    assert head.json()["office"] == DEPT and head.json()["applicants_served"] == 4
    assert (await figures("&office=akmola-dept-01", Role.HEAD, DEPT)).status_code == 403
    assert (await figures("", Role.CLERK, DEPT)).status_code == 403
    backwards = await client.get(
        "/v1/complaints/figures?from=2025-03-31&to=2025-03-01", headers=auth(Role.AUDITOR, "hq")
    )
    assert backwards.status_code == 422
    missing = await client.get("/v1/complaints/figures?from=2025-03-01", headers=auth(Role.AUDITOR, "hq"))
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "to"


async def test_no_applicants_served_gives_no_share(client: httpx.AsyncClient) -> None:
    empty = await client.get(
        "/v1/complaints/figures?from=2025-01-01&to=2025-01-31", headers=auth(Role.ADMIN, "hq")
    )
    assert empty.status_code == 200
    assert empty.json()["justified_complaints_share"] is None


async def test_periods_are_the_regions_local_days(
    pool: asyncpg.Pool, complaints_schema: str, client: httpx.AsyncClient, clock: Clock
) -> None:
    # 01:00 on 1 April in Karaganda (UTC+5) is 20:00 UTC on 31 March.
    first_of_april = datetime(2025, 3, 31, 20, 0, tzinfo=UTC)
    a = submitted()
    await seed(pool, complaints_schema, a, decided(a, first_of_april))
    clock.now = REGISTERED_AT
    talon = await client.post("/v1/complaints", json=complaint_body(a.application_id), headers=auth())
    assert talon.status_code == 201, talon.text
    clock.now = first_of_april
    answered = await client.post(
        f"/v1/complaints/{talon.json()['complaint_id']}/resolution",
        json={"outcome": "upheld", "reasoning": "as found"},
        headers=auth(Role.REVIEWER, REVIEWING),
    )
    assert answered.status_code == 200, answered.text
    counts = ("applicants_served", "justified_complaints")

    async def month(first: str, last: str) -> tuple[int, int]:
        found = await client.get(
            f"/v1/complaints/figures?from={first}&to={last}", headers=auth(Role.AUDITOR, "hq")
        )
        assert found.status_code == 200, found.text
        return tuple(found.json()[k] for k in counts)  # type: ignore[return-value]

    assert await month("2025-04-01", "2025-04-30") == (1, 1)
    assert await month("2025-03-01", "2025-03-31") == (0, 0)


async def test_applicants_served_are_distinct_applicants_not_applications(
    pool: asyncpg.Pool, complaints_schema: str, client: httpx.AsyncClient
) -> None:
    same = "850412300017"
    a, b, c = submitted(iin=same), submitted(iin=same), submitted()
    await seed(
        pool, complaints_schema,
        a, decided(a, _day(3, 3)), b, decided(b, _day(3, 4)), c, decided(c, _day(3, 5)),
    )  # fmt: skip
    found = await client.get(
        "/v1/complaints/figures?from=2025-03-01&to=2025-03-31", headers=auth(Role.AUDITOR, "hq")
    )
    assert found.json()["applicants_served"] == 2
    async with pool.acquire() as conn:
        stored = [dict(r) for r in await conn.fetch(f"SELECT * FROM {complaints_schema}.known_applications")]
    assert same not in str(stored)  # a keyed hash, never the ИИН itself
