"""A submission waiting for its office's registration counter holds no transaction id (issue 14).

Every gap-safe reader in the cluster (each service's outbox relay, the projections) reads only
below the oldest running transaction id. A submission that wrote anything (its idempotency key)
before queueing for the office's counter held the cluster's horizon back for as long as it
queued: at 30 submissions/s for one office the relays' p99 was 1.0-1.5 s, and the queue on the
counter row was what held it (pg_stat_activity). Submissions now queue for their office's turn
before their first write.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from services.intake.adapters.catalog import CatalogAdapter
from services.intake.adapters.offices import OfficeBook
from services.intake.adapters.repository import ApplicationStreams
from services.intake.bootstrap import build
from shared.auth.roles import Role
from shared.contracts.applications import SubmitApplication
from shared.domain.actor import Actor
from shared.service_layer import Meta
from tests.intake.conftest import DEPT, unemployed_registration, wait_for


async def test_a_submission_queued_behind_another_of_its_office_holds_no_transaction_id(
    pool: asyncpg.Pool,
    admin_pool: asyncpg.Pool,
    intake_schema: str,
    catalog: CatalogAdapter,
    offices: OfficeBook,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service = build(pool, intake_schema, catalog=catalog, offices=offices, pseudonym_key="k" * 32).service
    meta = Meta(Actor(subject="clerk-1", role=Role.CLERK.value, office=DEPT))
    await service.handle(SubmitApplication.model_validate(unemployed_registration()), meta)  # warm-up

    inside, release = asyncio.Event(), asyncio.Event()
    append = ApplicationStreams.append_audited

    async def held_append(*args: Any, **kwargs: Any) -> None:  # the first submission stops here,
        if not release.is_set():  # its number taken, its transaction open
            inside.set()
            await release.wait()
        await append(*args, **kwargs)

    monkeypatch.setattr(ApplicationStreams, "append_audited", held_append)
    first = asyncio.create_task(
        service.handle(SubmitApplication.model_validate(unemployed_registration()), meta)
    )
    await asyncio.wait_for(inside.wait(), 10)
    second = asyncio.create_task(
        service.handle(SubmitApplication.model_validate(unemployed_registration()), meta)
    )
    try:
        async with admin_pool.acquire() as conn:

            async def queued() -> list[asyncpg.Record]:
                return await conn.fetch(
                    "SELECT backend_xid::text AS xid, left(query, 120) AS query FROM pg_stat_activity"
                    " WHERE datname = current_database() AND usename = 'qyzmet_intake'"
                    " AND wait_event_type = 'Lock'"
                )

            waiting = await wait_for(queued, timeout=10)
            assert len(waiting) == 1
            assert waiting[0]["xid"] is None, f"queued holding transaction id {waiting[0]['xid']}: {waiting}"
    finally:
        release.set()
        results = await asyncio.gather(first, second)
    numbers = sorted(int(r.event.registration_number.rsplit("-", 1)[1]) for r in results)
    assert numbers[1] == numbers[0] + 1
