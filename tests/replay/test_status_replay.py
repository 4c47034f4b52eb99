"""The bulk status replay (`StatusReplay`) gives what the live projector gives from the same
store: with a row cache far smaller than the applications, rows leave it, are written, and are
read back when a later event needs them; the target gets the live schema's indexes back after
the load and the checkpoint where the log ends. Its page reader waits for an older transaction
as the live reader does."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from services.intake.adapters.projection import PROJECTION, ApplicationProjector
from services.intake.adapters.status_replay import StatusReplay, TargetNotFresh
from services.intake.projections import APPLICATIONS
from shared.contracts.application_progress import CaseProgressRecorded, CaseStep, GroundRef
from shared.contracts.applications import ApplicationSubmitted
from shared.eventstore import EventStore, NewEvent, StoredEvent
from shared.replay.engine import ReplayResult, prepare_target, verify
from shared.replay.reading import ReplayStalled, pages_read_ahead
from tests.intake.conftest import wait_for

AT = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
GROUNDS = (GroundRef(id="g", text="t"),)


def _submitted(app: str, n: int) -> NewEvent:
    event = ApplicationSubmitted(
        application_id=app, registration_number=f"karaganda-dept-01-2025-{n:06d}",
        service_id="unemployed_registration", edition_id="unemployed_registration@2023", edition_basis="test",
        channel="department", office_id="karaganda-dept-01", region="karaganda", received_by="clerk-1",
        received_at=AT, due_at=AT + timedelta(days=10), idempotency_key=f"k{n}",
        applicant={"iin": "850412300017", "full_name": "Test Applicant", "contacts": {"phone": "+7 701"}},
        documents=[{"document_id": "identity_card", "name_kk": "a", "name_en": "a", "form": "original"}],
    )  # fmt: skip
    return NewEvent(event.event_name, event.model_dump(mode="json"), metadata={"actor": "clerk-1"})


def _step(app: str, step: CaseStep, hour: int, **facts: Any) -> NewEvent:
    event = CaseProgressRecorded(
        application_id=app, step=step, source_event_id=str(uuid.uuid4()), source_event_type=f"case.{step}",
        occurred_at=AT.replace(hour=hour), recorded_by="officer-1", **facts,
    )  # fmt: skip
    return NewEvent(event.event_name, event.model_dump(mode="json"), metadata={"actor": "officer-1"})


async def _append(conn: asyncpg.Connection, store: EventStore, app: str, event: NewEvent) -> None:
    await store.append(conn, f"application-{app}", [event], None)


async def _log(pool: asyncpg.Pool, schema: str, apps: list[str] | None = None) -> int:
    """Seven applications (`apps`, else new ids) whose steps come round by round (each touches
    every application again), late complaints about the first two, and steps of an application
    never submitted."""
    store, apps = EventStore(schema), apps or [str(uuid.uuid4()) for _ in range(7)]
    assert len(apps) == 7
    rounds: list[tuple[CaseStep, dict[str, Any]]] = [
        ("executor_assigned", {"executor": "spec-1"}),
        ("inspection_scheduled", {"inspection_date": date(2025, 3, 10)}),
        ("decision_made", {"outcome": "approved", "decided_at": AT, "grounds": GROUNDS}),
        ("notification_state_changed", {
            "notification_id": "n1", "notification_kind": "decision_made", "notification_channel": "email",
            "delivery_state": "DELIVERED",
        }),
    ]  # fmt: skip
    count = 0
    async with pool.acquire() as conn:
        for n, app in enumerate(apps):
            await _append(conn, store, app, _submitted(app, n))
            count += 1
        for hour, (step, facts) in enumerate(rounds, start=10):
            for app in apps:
                await _append(conn, store, app, _step(app, step, hour, **facts))
                count += 1
        orphan = str(uuid.uuid4())
        await _append(conn, store, orphan, _step(orphan, "executor_assigned", 11, executor="spec-2"))
        for app in apps[:2]:
            await _append(conn, store, app, _step(app, "complaint_registered", 16, complaint_id="c1"))
            resolved = _step(app, "complaint_resolved", 17, complaint_id="c1", complaint_outcome="upheld")
            await _append(conn, store, app, resolved)
            count += 2
        await _append(conn, store, apps[0], _step(apps[0], "reopened", 18, due_at=AT + timedelta(days=40)))
    return count + 2


async def _indexes(conn: asyncpg.Connection, schema: str) -> set[str]:
    rows = await conn.fetch(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = $1"
        " AND tablename IN ('applications', 'application_history')",
        schema,
    )
    return {row["indexdef"].replace(f"{schema}.", "") for row in rows}


async def _assert_as_live(pool: asyncpg.Pool, live: str, result: ReplayResult) -> None:
    """The target holds what the live projector made of `_log`'s events: its rows and history,
    its indexes, its checkpoint."""
    spec = dataclasses.replace(APPLICATIONS, schema=lambda: live)
    tables = await verify(pool, spec, result)
    assert [(t.table, t.compared, t.differing) for t in tables] == [
        ("applications", 7, 0),
        ("application_history", result.events - 1, 0),  # the orphan step has no row, no history
    ], [str(d) for t in tables for d in t.shown]
    checkpoint = "SELECT txid, position FROM {}.projection_checkpoints WHERE projection = $1"
    async with pool.acquire() as conn:
        assert await _indexes(conn, result.target) == await _indexes(conn, live)
        assert await conn.fetchrow(checkpoint.format(result.target), PROJECTION) == await conn.fetchrow(
            checkpoint.format(live), PROJECTION
        )


async def test_a_replay_with_a_small_cache_gives_the_live_rows(
    pool: asyncpg.Pool, intake_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = await _log(pool, intake_schema)
    live, projected = ApplicationProjector(pool, intake_schema, batch_size=500), []

    async def caught_up() -> bool:  # a transaction elsewhere in the cluster may hold the reader back
        projected.append(await live.run_once())
        return sum(projected) == events

    await wait_for(caught_up, timeout=60.0)
    spec = dataclasses.replace(APPLICATIONS, schema=lambda: intake_schema)
    target = f"{intake_schema}_bulk"
    try:
        async with pool.acquire() as conn:
            await prepare_target(conn, spec, target)
        replay = StatusReplay(intake_schema, target, page=4, cache_rows=3, history_rows=5)
        brought_back: list[str] = []
        load = replay._load

        async def counted(lookup: asyncpg.Connection, missing: list[str]) -> None:
            brought_back.extend(missing)
            await load(lookup, missing)

        monkeypatch.setattr(replay, "_load", counted)
        progress: list[int] = []
        assert await replay.run(pool, None, progress.append) == events == sum(progress)
        assert brought_back  # rows left the cache and later events needed them again

        await _assert_as_live(pool, intake_schema, ReplayResult(spec.full_name, target, events, 0.0, None))
        with pytest.raises(TargetNotFresh):
            await StatusReplay(intake_schema, target).run(pool, None, progress.append)
    finally:
        async with pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA IF EXISTS {target} CASCADE")


async def test_pages_wait_for_an_older_transaction(pool: asyncpg.Pool, intake_schema: str) -> None:
    store, first, second = EventStore(intake_schema), str(uuid.uuid4()), str(uuid.uuid4())
    async with pool.acquire() as older, pool.acquire() as reader:
        transaction = older.transaction()
        await transaction.start()
        try:
            await _append(older, store, first, _submitted(first, 1))  # its txid is the older one
            async with pool.acquire() as conn:
                await _append(conn, store, second, _submitted(second, 2))
            with pytest.raises(ReplayStalled, match="1 of 1 events not readable"):
                async for _ in pages_read_ahead(reader, store, 10, 1, patience_s=0.2):
                    pass

            async def read() -> list[StoredEvent]:
                return [e async for page in pages_read_ahead(reader, store, 1, 1) for e in page]

            reading = asyncio.ensure_future(read())
            await asyncio.sleep(0.3)
            assert not reading.done()  # nothing is read past the running transaction
        finally:
            await transaction.commit()
        assert [e.stream_id for e in await reading] == [f"application-{first}", f"application-{second}"]
