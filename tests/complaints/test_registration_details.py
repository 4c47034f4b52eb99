"""Registration details: when the office received the complaint (`received_at`) starts the term;
a retried request is the same request whatever defaults it spells out; a named office must be
known; a complaint about a decision on a final, undecided application is refused at once; the
edition is the one of the region's local day; a repeated escalation is recorded once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import asyncpg
import httpx
import pytest

from services.complaints.adapters.catalog import ComplaintsCatalog
from services.complaints.adapters.repository import decode_stored
from services.complaints.bootstrap import build
from services.complaints.domain.complaint import stream_id
from services.complaints.service_layer.registration import NotYetKnown
from shared.auth.roles import Role
from shared.catalog.editions import AdoptionRecord
from shared.catalog.example_data import load_example_parameter_records
from shared.contracts.applications import ApplicationWithdrawn
from shared.contracts.complaints import FileComplaint
from shared.domain.actor import Actor
from shared.domain.errors import InvalidInput
from shared.eventstore import EventStore
from shared.service_layer import Meta
from tests.complaints.conftest import (
    DEPT,
    REGISTERED_AT,
    Clock,
    auth,
    complaint_body,
    decided_application,
    refused_at_intake,
    seed,
    settings,
    submitted,
)

TSON = "karaganda-tson-01"


async def test_the_term_starts_when_the_office_received_the_complaint(
    pool: asyncpg.Pool, complaints_schema: str, client: httpx.AsyncClient, clock: Clock
) -> None:
    app = await decided_application(pool, complaints_schema)
    clock.advance(days=4)  # processed on Friday 7 March; received on Monday 3 March
    received = REGISTERED_AT.isoformat()
    talon = await client.post(
        "/v1/complaints", json=complaint_body(app.application_id, received_at=received), headers=auth()
    )
    assert talon.status_code == 201, talon.text
    assert talon.json()["registered_at"].startswith("2025-03-03T05:00:00")
    assert talon.json()["review_due_on"] == "2025-03-18"  # 15 days from receipt, not from processing

    future = (clock.now + timedelta(hours=1)).isoformat()
    naive = "2025-03-03T10:00:00"
    for value, why in ((future, "future"), (naive, "time zone")):
        refused = await client.post(
            "/v1/complaints", json=complaint_body(app.application_id, received_at=value), headers=auth()
        )
        assert refused.status_code == 422, (value, refused.text)
        [error] = [e for e in refused.json()["errors"] if "received_at" in e["field"]]
        assert why in error["reason"], error
    skew = (clock.now + timedelta(seconds=30)).isoformat()  # a small clock skew is allowed
    ok = await client.post(
        "/v1/complaints", json=complaint_body(app.application_id, received_at=skew), headers=auth()
    )
    assert ok.status_code == 201, ok.text


async def test_a_retry_that_spells_out_the_default_office_is_the_same_request(
    pool: asyncpg.Pool, complaints_schema: str, client: httpx.AsyncClient
) -> None:
    app = await decided_application(pool, complaints_schema)
    body = complaint_body(app.application_id)
    first = await client.post("/v1/complaints", json=body, headers=auth())
    again = await client.post("/v1/complaints", json={**body, "received_at_office": DEPT}, headers=auth())
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["complaint_id"] == first.json()["complaint_id"]


async def test_an_official_action_complaint_naming_an_unknown_office_is_refused(
    pool: asyncpg.Pool, complaints_schema: str, client: httpx.AsyncClient
) -> None:
    app = await decided_application(pool, complaints_schema)
    refused = await client.post(
        "/v1/complaints",
        json=complaint_body(app.application_id, subject="official_action", office_id="anywhere-99"),
        headers=auth(),
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "office_id"


async def test_a_decision_complaint_on_a_final_undecided_application_is_refused_at_once(
    pool: asyncpg.Pool, complaints_schema: str, complaints_catalog: ComplaintsCatalog, clock: Clock
) -> None:
    refusal = refused_at_intake()
    withdrawn = submitted()
    gone = ApplicationWithdrawn(
        application_id=withdrawn.application_id, withdrawn_by="applicant", withdrawn_at=REGISTERED_AT
    )
    await seed(pool, complaints_schema, refusal, withdrawn, gone)
    service = build(pool, complaints_schema, catalog=complaints_catalog, clock=clock, settings=settings())
    meta = Meta(Actor(f"clerk.officer@{DEPT}", Role.CLERK.value, DEPT))
    for application_id in (refusal.application_id, withdrawn.application_id):
        command = FileComplaint.model_validate(complaint_body(application_id))
        with pytest.raises(InvalidInput) as refused:
            await service.bus.handle(command, meta)
        assert not isinstance(refused.value, NotYetKnown), refused.value  # final: no retrying on Kafka
        assert refused.value.errors[0]["field"] == "application_id"


async def test_the_edition_is_the_one_of_the_regions_local_day(
    pool: asyncpg.Pool, complaints_schema: str, complaints_catalog: ComplaintsCatalog
) -> None:
    adopted = AdoptionRecord(
        service="personal_subsidiary_farm_certificate", edition="kz_std_2011", region="karaganda",
        effective_from=date(2025, 3, 4), effective_to=None, adopted_by="test", reason="test", example=False,
    )  # fmt: skip
    base = complaints_catalog.catalog
    catalog = ComplaintsCatalog(
        base, complaints_catalog.routing, load_example_parameter_records(base), [adopted]
    )
    await seed(pool, complaints_schema, submitted(office_id=TSON, channel="tson"))
    # 20:00 UTC on 3 March is 01:00 on 4 March in Karaganda: the adopted edition is in force.
    clock = Clock(datetime(2025, 3, 3, 20, 0, tzinfo=UTC))
    service = build(pool, complaints_schema, catalog=catalog, clock=clock, settings=settings())
    command = FileComplaint.model_validate(
        complaint_body(
            None, subject="official_action", office_id=TSON,
            service_id="personal_subsidiary_farm_certificate", received_at_office=TSON,
        )
    )  # fmt: skip
    registered = await service.bus.handle(command, Meta(Actor(f"tson.officer@{TSON}", Role.TSON.value, TSON)))
    assert registered.event.reviewing_body == "tson_head"


async def test_a_repeated_escalation_is_recorded_once(
    pool: asyncpg.Pool, complaints_schema: str, client: httpx.AsyncClient
) -> None:
    app = await decided_application(pool, complaints_schema)
    talon = await client.post("/v1/complaints", json=complaint_body(app.application_id), headers=auth())
    complaint = talon.json()["complaint_id"]
    court = {"to": "court", "body": "Karaganda city court No. 2"}
    first = await client.post(f"/v1/complaints/{complaint}/escalations", json=court, headers=auth())
    retry = await client.post(f"/v1/complaints/{complaint}/escalations", json=court, headers=auth())
    assert (first.status_code, retry.status_code) == (200, 200), retry.text
    assert first.json()["events"] == ["complaint.escalated"] and retry.json()["events"] == []
    higher = await client.post(
        f"/v1/complaints/{complaint}/escalations",
        json={"to": "higher_body", "body": "ministry"},
        headers=auth(),
    )
    assert higher.json()["events"] == ["complaint.escalated"]
    async with pool.acquire() as conn:
        stored = await EventStore(complaints_schema).load(conn, stream_id(complaint))
    names = [decode_stored(e).event_name for e in stored]
    assert names == ["complaint.registered", "complaint.escalated", "complaint.escalated"]
